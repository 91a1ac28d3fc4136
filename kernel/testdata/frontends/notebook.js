// Drives the classic Jupyter Notebook (6.x) in headless Chromium, the way a
// person would: open a notebook, check its kernel, Cell > Run All, wait for
// the kernel to go idle, save, take a screenshot.
//
// It reports what the page showed as one JSON object on stdout; the checks
// themselves live in kernel/frontend_test.go. Progress goes to stderr.
//
//   node notebook.js --url URL --screenshot FILE --profile DIR [--chromium PATH] [--timeout SECONDS]

'use strict';

const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const args = { chromium: '/usr/bin/chromium', timeout: 90 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args) && !['url', 'screenshot', 'profile'].includes(key)) {
      throw new Error(`unknown flag ${argv[i]}`);
    }
    args[key] = argv[i + 1];
  }
  for (const need of ['url', 'screenshot', 'profile']) {
    if (!args[need]) throw new Error(`--${need} is required`);
  }
  args.timeout = Number(args.timeout) * 1000;
  return args;
}

function log(...parts) {
  process.stderr.write(`[notebook.js ${new Date().toISOString().slice(11, 23)}] ${parts.join(' ')}\n`);
}

// Everything the page shows about the notebook, read through the Notebook's
// own JavaScript objects and its DOM.
function snapshot() {
  const nb = window.Jupyter && Jupyter.notebook;
  const kernel = nb && nb.kernel;
  const icon = document.querySelector('#kernel_indicator_icon');
  return {
    kernel: kernel
      ? {
          name: kernel.name,
          connected: typeof kernel.is_connected === 'function' ? kernel.is_connected() : null,
          implementation: kernel.info_reply ? kernel.info_reply.implementation : null,
          language: kernel.info_reply && kernel.info_reply.language_info ? kernel.info_reply.language_info.name : null,
          indicator: (document.querySelector('.kernel_indicator_name') || {}).textContent || '',
          iconClass: icon ? icon.className : '',
        }
      : null,
    language: nb && nb.metadata.language_info ? nb.metadata.language_info.name : null,
    dirty: nb ? nb.dirty : null,
    cells: nb
      ? nb.get_cells().map((c) => {
          const out = c.output_area;
          const imgs = out ? Array.from(out.element[0].querySelectorAll('img')) : [];
          return {
            type: c.cell_type,
            source: c.get_text(),
            prompt: c.cell_type === 'code' ? c.input_prompt_number ?? null : null,
            outputs: out ? out.toJSON() : [],
            text: out ? out.element[0].innerText : c.element[0].innerText,
            html: out ? out.element[0].innerHTML.slice(0, 4000) : '',
            imgs: imgs.map((i) => ({
              complete: i.complete,
              width: i.naturalWidth,
              height: i.naturalHeight,
              src: i.src.slice(0, 40),
            })),
          };
        })
      : [],
  };
}

// A compact form of one websocket frame: channel, type, parent, content
// (long strings cut, so images do not bloat the report).
function brief(dir, payload) {
  const out = { dir, t: Date.now() };
  if (typeof payload !== 'string') {
    out.binary = payload.length;
    return out;
  }
  let msg;
  try {
    msg = JSON.parse(payload);
  } catch (e) {
    out.text = payload.slice(0, 200);
    return out;
  }
  out.channel = msg.channel;
  out.msg_type = msg.header && msg.header.msg_type;
  out.msg_id = msg.header && msg.header.msg_id;
  out.parent_type = msg.parent_header && msg.parent_header.msg_type;
  out.parent_id = msg.parent_header && msg.parent_header.msg_id;
  out.content = JSON.parse(JSON.stringify(msg.content || {}, (k, v) =>
    typeof v === 'string' && v.length > 300 ? v.slice(0, 300) + `...(${v.length} chars)` : v));
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const report = { console: [], pageErrors: [], failedRequests: [], messages: [], steps: [] };
  const t0 = Date.now();
  const step = (name) => {
    report.steps.push({ step: name, ms: Date.now() - t0 });
    log(name);
  };

  const context = await chromium.launchPersistentContext(args.profile, {
    executablePath: args.chromium,
    headless: true,
    viewport: { width: 1280, height: 900 },
    timeout: 60000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  step('chromium started');
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(args.timeout);
  page.on('console', (m) => {
    const loc = m.location();
    report.console.push({ type: m.type(), text: m.text(), url: loc ? loc.url : '' });
  });
  page.on('pageerror', (e) => report.pageErrors.push(String(e && e.stack ? e.stack : e)));
  page.on('requestfailed', (r) =>
    report.failedRequests.push({ url: r.url(), error: (r.failure() || {}).errorText || '' }),
  );
  // The kernel's messages as the page sees them, through the Notebook
  // server's websocket: what the checks and failure reports are made of.
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/api/kernels/')) return;
    const record = (dir) => (frame) => report.messages.push(brief(dir, frame.payload));
    ws.on('framesent', record('sent'));
    ws.on('framereceived', record('received'));
  });
  page.on('response', (r) => {
    if (r.status() >= 400) report.failedRequests.push({ url: r.url(), status: r.status() });
  });

  try {
    await page.goto(args.url, { waitUntil: 'load' });
    step('page loaded');

    // The notebook's metadata names the kernelspec; the Notebook starts that
    // kernel by itself. Wait until its kernel_info_reply has arrived.
    await page.waitForFunction(
      () => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.info_reply &&
        Jupyter.notebook.kernel.info_reply.status === 'ok' && Jupyter.notebook.kernel.is_connected(),
    );
    step('kernel ready');
    report.before = await page.evaluate(snapshot);

    // Cell > Run All, through the menu bar.
    await page.click('#celllink');
    await page.click('#run_all_cells > a');
    step('run all clicked');

    // Done when every code cell shows an execution count (not "*") and the
    // kernel indicator is idle again.
    await page.waitForFunction(() => {
      const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
      const done = cells.every((c) => typeof c.input_prompt_number === 'number');
      const idle = document.querySelector('#kernel_indicator_icon').classList.contains('kernel_idle_icon');
      return done && idle;
    });
    step('all cells executed, kernel idle');
    // Let rendering (images decode) and late messages settle.
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('.output_area img')).every((i) => i.complete),
    );
    await page.waitForTimeout(500);

    // File > Save, through the notebook's own save (the keyboard shortcut
    // does the same), so the test can read what the server wrote.
    await page.evaluate(() => new Promise((resolve, reject) => {
      Jupyter.notebook.events.one('notebook_saved.Notebook', () => resolve());
      Jupyter.notebook.events.one('notebook_save_failed.Notebook', (_, e) => reject(new Error('save failed: ' + e)));
      Jupyter.notebook.save_notebook();
    }));
    step('saved');
    report.after = await page.evaluate(snapshot);
  } catch (e) {
    report.error = String(e && e.stack ? e.stack : e);
    log('error:', report.error);
    report.after = await page.evaluate(snapshot).catch(() => null);
  }

  // Grow the viewport to the notebook's height: the Notebook scrolls inside
  // #site, so a full-page screenshot alone would cut the notebook off.
  try {
    const height = await page.evaluate(() => {
      const site = document.querySelector('#site');
      const header = document.querySelector('#header');
      return (header ? header.offsetHeight : 0) + (site ? site.scrollHeight : document.body.scrollHeight) + 20;
    });
    await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 6000) });
    await page.waitForTimeout(300);
    await page.screenshot({ path: args.screenshot });
    report.screenshot = args.screenshot;
    step('screenshot taken');
  } catch (e) {
    report.screenshotError = String(e);
  }

  await context.close();
  process.stdout.write(JSON.stringify(report) + '\n');
  return report.error ? 1 : 0;
}

main().then(
  // process.exit would cut off a report larger than the pipe's buffer:
  // exit once stdout has taken all of it.
  (code) => process.stdout.write('', () => process.exit(code)),
  (e) => {
    process.stderr.write(`notebook.js: ${e && e.stack ? e.stack : e}\n`);
    process.exit(2);
  },
);

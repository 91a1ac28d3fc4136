// Package jupyterserver finds the notebook a Jupyter server runs a kernel
// for. Jupyter Server 2 tells its kernels in JPY_SESSION_NAME; the
// classic Notebook (6.x) and Jupyter Server 1 do not, but they write
// their address and token to a file in Jupyter's runtime directory
// (nbserver-PID.json, jpserver-PID.json), where the kernel's connection
// file is too, and list at /api/sessions which notebook each kernel runs
// for. The kernel's id is its connection file's name, kernel-ID.json.
package jupyterserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// KernelID returns the kernel id in the name of a connection file that a
// Jupyter server wrote (kernel-ID.json), or "".
func KernelID(connFile string) string {
	base := filepath.Base(connFile)
	if !strings.HasPrefix(base, "kernel-") || !strings.HasSuffix(base, ".json") {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(base, "kernel-"), ".json")
}

// serverInfo is what a server writes to its runtime file.
type serverInfo struct {
	URL         string `json:"url"`
	Token       string `json:"token"`
	Sock        string `json:"sock"`
	RootDir     string `json:"root_dir"`     // Jupyter Server
	NotebookDir string `json:"notebook_dir"` // classic Notebook
}

// session is the part of an /api/sessions entry used here.
type session struct {
	Path     string `json:"path"`
	Type     string `json:"type"`
	Notebook *struct {
		Path string `json:"path"`
	} `json:"notebook"` // classic Notebook and Server 1
	Kernel *struct {
		ID string `json:"id"`
	} `json:"kernel"`
}

// servers returns the runtime files of the servers in dir.
func servers(dir string) []string {
	var files []string
	for _, pat := range []string{"jpserver-*.json", "nbserver-*.json"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	return files
}

// Lookup asks the servers whose runtime files are in dir for the session
// of kernel id and returns its notebook's path: absolute when the server
// says its root directory, else as the server names it. It returns ""
// and no error when no server knows the kernel (yet); the error says why
// the last server that could not be asked was not.
func Lookup(ctx context.Context, client *http.Client, dir, id string) (string, error) {
	var lastErr error
	for _, f := range servers(dir) {
		p, err := lookupServer(ctx, client, f, id)
		if err != nil {
			lastErr = err
			continue
		}
		if p != "" {
			return p, nil
		}
	}
	return "", lastErr
}

func lookupServer(ctx context.Context, client *http.Client, file, id string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("jupyterserver: %w", err)
	}
	var info serverInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return "", fmt.Errorf("jupyterserver: %s: %w", file, err)
	}
	if info.URL == "" || info.Sock != "" {
		return "", fmt.Errorf("jupyterserver: %s: no HTTP address", file)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(info.URL, "/")+"/api/sessions", nil)
	if err != nil {
		return "", fmt.Errorf("jupyterserver: %s: %w", file, err)
	}
	if info.Token != "" {
		req.Header.Set("Authorization", "token "+info.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("jupyterserver: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("jupyterserver: GET %s: %s", req.URL.Redacted(), resp.Status)
	}
	var sessions []session
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 16<<20)).Decode(&sessions); err != nil {
		return "", fmt.Errorf("jupyterserver: GET %s: %w", req.URL.Redacted(), err)
	}
	for _, s := range sessions {
		if s.Kernel == nil || s.Kernel.ID != id {
			continue
		}
		p := s.Path
		if s.Notebook != nil && s.Notebook.Path != "" {
			p = s.Notebook.Path
		}
		if p == "" || (s.Type != "notebook" && path.Ext(p) != ".ipynb") {
			return "", nil // a console's or a file's kernel
		}
		root := info.RootDir
		if root == "" {
			root = info.NotebookDir
		}
		if root != "" && filepath.IsAbs(root) {
			return filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, "/"))), nil
		}
		return p, nil
	}
	return "", nil
}

// Watch looks up, in the background, the notebook the Jupyter server
// running the kernel of connFile runs it for, and returns a function
// that gives it ("" until found). A server registers a kernel's session
// after starting it, so Watch asks again, less and less often, for up to
// patience; it gives up at once when connFile is not a server's or no
// server left its runtime file beside it.
func Watch(ctx context.Context, connFile string, patience time.Duration) func() string {
	var mu sync.Mutex
	var found string
	id := KernelID(connFile)
	dir := filepath.Dir(connFile)
	if id == "" || len(servers(dir)) == 0 {
		return func() string { return "" }
	}
	go func() {
		client := &http.Client{Timeout: 2 * time.Second}
		deadline := time.Now().Add(patience)
		for wait := 50 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
			if p, _ := Lookup(ctx, client, dir, id); p != "" {
				mu.Lock()
				found = p
				mu.Unlock()
				return
			}
			if time.Now().Add(wait).After(deadline) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}()
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return found
	}
}

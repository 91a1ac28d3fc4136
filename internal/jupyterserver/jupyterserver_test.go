package jupyterserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const kernelID = "6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"

// fakeServer serves /api/sessions as a Jupyter server does, to requests
// that carry its token, and writes its runtime file into dir.
func fakeServer(t *testing.T, dir, file, token string, info map[string]any, sessions func() string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/sessions" {
			http.NotFound(w, r)
			return
		}
		if token != "" && r.Header.Get("Authorization") != "token "+token {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(sessions()))
	}))
	t.Cleanup(srv.Close)
	if info == nil {
		info = map[string]any{}
	}
	info["url"], info["token"] = srv.URL+"/", token
	b, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(dir, file), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestKernelID(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"/run/user/0/jupyter/kernel-" + kernelID + ".json", kernelID},
		{"kernel-abc.json", "abc"},
		{"/tmp/conn.json", ""},
		{"kernel-abc.txt", ""},
	} {
		if got := KernelID(tc.file); got != tc.want {
			t.Errorf("KernelID(%q) = %q, want %q", tc.file, got, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	classic := `[{"id":"s1","path":"sub/other.ipynb","type":"notebook","kernel":{"id":"someone-else"},"notebook":{"path":"sub/other.ipynb"}},
		{"id":"s2","path":"","name":"","type":"notebook","kernel":{"id":"` + kernelID + `"},"notebook":{"path":"work/churn model.ipynb","name":"churn model.ipynb"}}]`
	server2 := `[{"id":"s2","path":"work/churn model.ipynb","name":"churn model.ipynb","type":"notebook","kernel":{"id":"` + kernelID + `"}}]`
	console := `[{"id":"s3","path":"console-1","type":"console","kernel":{"id":"` + kernelID + `"}}]`
	for _, tc := range []struct {
		name      string
		file      string
		token     string // the server's
		info      map[string]any
		sessions  string
		want      string
		wantError string
	}{
		{"classic notebook", "nbserver-12.json", "secret", map[string]any{"notebook_dir": "/home/u"}, classic, "/home/u/work/churn model.ipynb", ""},
		{"jupyter server", "jpserver-12.json", "", map[string]any{"root_dir": "/srv/nb"}, server2, "/srv/nb/work/churn model.ipynb", ""},
		{"no root", "jpserver-12.json", "", nil, server2, "work/churn model.ipynb", ""},
		{"a console's kernel", "jpserver-12.json", "", nil, console, "", ""},
		{"kernel unknown yet", "nbserver-12.json", "", nil, `[]`, "", ""},
		{"bad answer", "nbserver-12.json", "", nil, `<html>`, "", "invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fakeServer(t, dir, tc.file, tc.token, tc.info, func() string { return tc.sessions })
			got, err := Lookup(context.Background(), http.DefaultClient, dir, kernelID)
			if got != tc.want {
				t.Errorf("Lookup = %q, want %q", got, tc.want)
			}
			if tc.wantError == "" && err != nil || tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)) {
				t.Errorf("Lookup error %v, want %q", err, tc.wantError)
			}
		})
	}

	// A server that has gone (its file left behind) or refuses the
	// token does not hide one that knows the kernel.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "nbserver-1.json"), []byte(`{"url":"http://127.0.0.1:1/","token":""}`), 0o600)
	fakeServer(t, dir, "nbserver-2.json", "secret", nil, func() string { return classic })
	b, _ := os.ReadFile(filepath.Join(dir, "nbserver-2.json"))
	os.WriteFile(filepath.Join(dir, "nbserver-3.json"), []byte(strings.Replace(string(b), `"secret"`, `"wrong"`, 1)), 0o600)
	fakeServer(t, dir, "jpserver-4.json", "", map[string]any{"root_dir": "/r"}, func() string { return server2 })
	if got, err := Lookup(context.Background(), http.DefaultClient, dir, kernelID); got != "/r/work/churn model.ipynb" {
		t.Errorf("Lookup beside a gone server and a wrong token = %q, %v", got, err)
	}
	os.Remove(filepath.Join(dir, "jpserver-4.json"))
	if got, err := Lookup(context.Background(), http.DefaultClient, dir, kernelID); got != "work/churn model.ipynb" {
		t.Errorf("Lookup after a gone server = %q, %v", got, err)
	}
	os.Remove(filepath.Join(dir, "nbserver-2.json"))
	if got, err := Lookup(context.Background(), http.DefaultClient, dir, kernelID); got != "" || err == nil || !strings.Contains(err.Error(), "403") && !strings.Contains(err.Error(), "refused") {
		t.Errorf("Lookup with only a gone server and a wrong token = %q, %v; want an error", got, err)
	}
}

// Watch finds the notebook once the server registers the kernel's
// session, which it does after starting the kernel.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	var registered atomic.Bool
	fakeServer(t, dir, "nbserver-7.json", "tok", map[string]any{"notebook_dir": "/nb"}, func() string {
		if !registered.Load() {
			return `[]`
		}
		return `[{"path":"a.ipynb","type":"notebook","kernel":{"id":"` + kernelID + `"}}]`
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	notebook := Watch(ctx, filepath.Join(dir, "kernel-"+kernelID+".json"), 20*time.Second)
	time.Sleep(120 * time.Millisecond)
	if got := notebook(); got != "" {
		t.Fatalf("before the session exists: %q", got)
	}
	registered.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for notebook() == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := notebook(); got != "/nb/a.ipynb" {
		t.Errorf("after the session exists: %q, want /nb/a.ipynb", got)
	}

	// Not a server's kernel: nothing to ask.
	if got := Watch(ctx, filepath.Join(t.TempDir(), "kernel-"+kernelID+".json"), time.Second)(); got != "" {
		t.Errorf("no server: %q", got)
	}
	if got := Watch(ctx, filepath.Join(dir, "conn.json"), time.Second)(); got != "" {
		t.Errorf("a connection file not named by a server: %q", got)
	}
}

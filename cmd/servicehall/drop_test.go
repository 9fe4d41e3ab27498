package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicehall/servicehall/internal/testenv"
)

// proxy forwards TCP connections to target; cut closes them all and
// refuses new ones until restore, as a database lost on the network.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.Cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// When its PostgreSQL drops, the server never lingers as a zombie that
// answers nothing: it either answers writes 503 with Retry-After and
// recovers by itself when the database returns, or it stops with the
// error. Either way it stops when told to.
func TestDatabaseDropLeavesNoZombie(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse(testenv.FreshPostgres(t, "servicehall_drop"))
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	db := u.String()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--eventstore", db, "--readmodels", db,
			"--admin-password", "admin-pass-1"}, pw, io.Discard)
		pw.Close()
	}()
	var base string
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "servicehall listening on "); ok {
			base = strings.Fields(addr)[0] + "/api/v1"
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatalf("serve did not start: %v", <-done)
	}
	_, out := send(t, "POST", base+"/auth/login", "", `{"username":"admin","password":"admin-pass-1"}`)
	token := out["token"].(string)
	client := &http.Client{Timeout: 10 * time.Second}
	write := func(i int) (int, string) {
		req, _ := http.NewRequest("POST", base+"/stations", strings.NewReader(fmt.Sprintf(`{"id":"st%d","name":"派出所%d"}`, i, i)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	if got, _ := write(0); got != 201 {
		t.Fatalf("a write before the drop: %d", got)
	}

	p.Cut()
	deadline := time.Now().Add(30 * time.Second)
	for i := 1; ; i++ {
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("the server stopped without an error when its database dropped")
			}
			t.Logf("the server stopped with %v", err)
			return
		default:
		}
		status, retry := write(i)
		if status == 503 && retry != "" {
			t.Logf("writes answer 503, Retry-After %s s", retry)
			break
		}
		if status != 0 && status != 503 && status != 500 {
			t.Fatalf("a write with the database gone: %d", status)
		}
		if time.Now().After(deadline) {
			t.Fatal("30 s after the drop the server neither answers 503 nor stops")
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.Restore()
	for i := 100; ; i++ {
		if status, _ := write(i); status == 201 {
			break
		}
		select {
		case err := <-done: // its feed died in the cut: stopping with the error is the other way out
			if err == nil {
				t.Fatal("the server stopped without an error after its database dropped")
			}
			t.Logf("the server stopped with %v", err)
			return
		default:
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatal("writes did not recover within 30 s of the database's return")
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop within 20 s of being told")
	}
}

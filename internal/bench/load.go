package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// An open-loop load generator: requests arrive at a constant rate whatever
// the answers do, and each latency runs from the moment its request was due
// to be sent, so a server that stalls is charged for every request that
// should have gone out meanwhile (no coordinated omission). It runs in its
// own process (servicehall bench rush-load), driven by the bench over
// stdin and stdout, so that it does not share a Go runtime with the server
// it measures.

// Request is one request the generator sends: a POST with a bearer token.
type Request struct {
	Token string
	Body  []byte
}

// Step is one rate step: rate requests a second for the step's seconds.
type Step struct {
	Rate    int     `json:"rate"`
	Seconds float64 `json:"seconds"` // from the first request due to the last answer
	Sent    int     `json:"sent"`
	OK      int     `json:"ok"`
	Full    int     `json:"full_409"`
	Errors  int     `json:"errors"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	MaxMs   float64 `json:"max_ms"`
	// Short is set when the requests ran out before the step's end.
	Short bool `json:"short,omitempty"`
	// IDs are the "id" fields of the 201 answers, when asked for.
	IDs []string `json:"ids,omitempty"`
	// Error is the first error, for the bench's log.
	Error string `json:"error,omitempty"`
}

// Answered is the requests answered 201 or 409.
func (s Step) Answered() int { return s.OK + s.Full }

// OpenLoop sends rate requests a second to url for d, taking each from next
// (false: none left), and waits for every answer. Request i is due at
// start + i/rate; it is sent then or, when the scheduler is behind, as soon
// as it can, and its latency counts from when it was due.
func OpenLoop(ctx context.Context, client *http.Client, url string, rate int, d time.Duration, next func() (Request, bool), ids bool) Step {
	n := int(float64(rate) * d.Seconds())
	lat := make([]time.Duration, n)
	status := make([]int, n)
	got := make([]string, n)
	var errOnce sync.Once
	var firstErr string
	var wg sync.WaitGroup
	start := time.Now().Add(time.Millisecond)
	sent := 0
	short := false
	for i := range n {
		due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		r, ok := next()
		if !ok {
			short = true
			break
		}
		sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, id, err := post(ctx, client, url, r, ids)
			lat[i] = time.Since(due)
			status[i] = code
			got[i] = id
			if err != nil {
				errOnce.Do(func() { firstErr = err.Error() })
			}
		}()
	}
	wg.Wait()
	s := Step{Rate: rate, Sent: sent, Short: short, Error: firstErr}
	var end time.Duration
	all := make([]time.Duration, 0, sent)
	for i := range sent {
		due := time.Duration(i) * time.Second / time.Duration(rate)
		end = max(end, due+lat[i])
		switch status[i] {
		case http.StatusCreated, http.StatusOK:
			s.OK++
			if got[i] != "" {
				s.IDs = append(s.IDs, got[i])
			}
		case http.StatusConflict:
			s.Full++
		default:
			s.Errors++
		}
		all = append(all, lat[i])
	}
	slices.Sort(all)
	s.Seconds = round(end.Seconds())
	s.P50ms = round(ms(percentile(all, 0.50)))
	s.P99ms = round(ms(percentile(all, 0.99)))
	if len(all) > 0 {
		s.MaxMs = round(ms(all[len(all)-1]))
	}
	return s
}

// post sends one request and reads the whole answer; the status is 0 when
// none came. A 201 answer's id is read when ids is set.
func post(ctx context.Context, client *http.Client, url string, r Request, ids bool) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(r.Body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	switch {
	case resp.StatusCode == http.StatusCreated && ids:
		var out struct{ ID string }
		if err := json.Unmarshal(raw, &out); err != nil || out.ID == "" {
			return 0, "", fmt.Errorf("a 201 answer without an id: %.200s", raw)
		}
		return resp.StatusCode, out.ID, nil
	case resp.StatusCode >= 300 && resp.StatusCode != http.StatusConflict:
		return resp.StatusCode, "", fmt.Errorf("%d %.300s", resp.StatusCode, raw)
	}
	return resp.StatusCode, "", nil
}

// LoadClient is the generator's HTTP client: it keeps every connection it
// opened, so that a step reuses the connections of the one before.
func LoadClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		MaxIdleConns: 0, MaxIdleConnsPerHost: 1 << 16, IdleConnTimeout: time.Minute, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext}}
}

// WriteRequests writes requests as lines of token and body, for LoadMain.
func WriteRequests(path string, reqs []Request) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, r := range reqs {
		if r.Token == "" || strings.ContainsAny(r.Token, " \n") || bytes.ContainsRune(r.Body, '\n') {
			f.Close()
			return fmt.Errorf("bench: a request that does not fit on a line")
		}
		fmt.Fprintf(w, "%s %s\n", r.Token, r.Body)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readRequests(path string) ([]Request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Request
	lines := bufio.NewScanner(f)
	lines.Buffer(make([]byte, 1<<16), 1<<20)
	for lines.Scan() {
		tok, body, ok := strings.Cut(lines.Text(), " ")
		if !ok {
			return nil, fmt.Errorf("bench: %s: a line without a token", path)
		}
		out = append(out, Request{Token: tok, Body: []byte(body)})
	}
	return out, lines.Err()
}

// LoadMain is servicehall bench rush-load: the generator's process. It
// reads its requests from --requests, then for each line "RATE SECONDS" on
// in runs one step against --url and prints it as one JSON line on out,
// until in ends. Requests are taken in order across steps; with --cycle
// they start over when they run out, else a step ends short.
func LoadMain(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("bench rush-load", flag.ContinueOnError)
	url := fs.String("url", "", "where the requests are POSTed")
	file := fs.String("requests", "", "a file of lines TOKEN BODY")
	cycle := fs.Bool("cycle", false, "start the requests over when they run out")
	ids := fs.Bool("ids", false, "report the ids of the 201 answers")
	timeout := fs.Duration("timeout", 5*time.Second, "a request not answered within this is an error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reqs, err := readRequests(*file)
	if err != nil {
		return err
	}
	if len(reqs) == 0 {
		return errors.New("bench rush-load: no requests")
	}
	client := LoadClient(*timeout)
	k := 0
	next := func() (Request, bool) {
		if k == len(reqs) {
			if !*cycle {
				return Request{}, false
			}
			k = 0
		}
		k++
		return reqs[k-1], true
	}
	enc := json.NewEncoder(out)
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 2 {
			return fmt.Errorf("bench rush-load: want RATE SECONDS, got %q", lines.Text())
		}
		rate, err1 := strconv.Atoi(f[0])
		secs, err2 := strconv.ParseFloat(f[1], 64)
		if err := errors.Join(err1, err2); err != nil || rate <= 0 || secs <= 0 {
			return fmt.Errorf("bench rush-load: want RATE SECONDS, got %q", lines.Text())
		}
		s := OpenLoop(ctx, client, *url, rate, time.Duration(secs*float64(time.Second)), next, *ids)
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return lines.Err()
}

// baselineAnswer is what the baseline answers every POST: about the size of
// a booking's answer.
var baselineAnswer = []byte(`{"id":"01JBENCHBASELINE0000000000","status":"booked","station_id":"bench","service_id":"birth",` +
	`"date":"2030-01-01","start":"08:00","end":"08:05","resident":{"name":"居*","id_number":"110105**********1X","phone":"139****0001"}}`)

// BaselineMain is servicehall bench rush-baseline: a minimal gin server in
// its own process, answering every POST to /api/v1/appointments with a
// fixed JSON body and 201. It prints "listening on ADDR" once it listens,
// and stops when in ends.
func BaselineMain(ctx context.Context, in io.Reader, out io.Writer) error {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/api/v1/appointments", func(c *gin.Context) {
		c.Data(http.StatusCreated, "application/json; charset=utf-8", baselineAnswer)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "listening on %s\n", ln.Addr())
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		io.Copy(io.Discard, in)
		cancel()
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// generator is a LoadMain process.
type generator struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *json.Decoder
}

func startGenerator(exe, url, requests string, cycle, ids bool, stderr io.Writer) (*generator, error) {
	args := []string{"bench", "rush-load", "--url", url, "--requests", requests}
	if cycle {
		args = append(args, "--cycle")
	}
	if ids {
		args = append(args, "--ids")
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start the load generator: %w", err)
	}
	return &generator{cmd: cmd, in: in, out: json.NewDecoder(out)}, nil
}

// step runs one step of rate requests a second for d.
func (g *generator) step(rate int, d time.Duration) (Step, error) {
	if _, err := fmt.Fprintf(g.in, "%d %g\n", rate, d.Seconds()); err != nil {
		return Step{}, fmt.Errorf("bench: the load generator: %w", err)
	}
	var s Step
	if err := g.out.Decode(&s); err != nil {
		return Step{}, fmt.Errorf("bench: the load generator: %w (%v)", err, g.close())
	}
	return s, nil
}

// close ends the generator and waits for it.
func (g *generator) close() error {
	g.in.Close()
	return g.cmd.Wait()
}

// startBaseline runs BaselineMain in its own process and returns its
// address and how to stop it.
func startBaseline(exe string, stderr io.Writer) (string, func() error, error) {
	cmd := exec.Command(exe, "bench", "rush-baseline")
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("bench: start the baseline: %w", err)
	}
	stop := func() error {
		in.Close()
		return cmd.Wait()
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			go io.Copy(io.Discard, out)
			return addr, stop, nil
		}
	}
	return "", nil, fmt.Errorf("bench: the baseline did not start: %v", stop())
}

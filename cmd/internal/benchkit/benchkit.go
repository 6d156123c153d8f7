// Package benchkit is what Passport's load generators share: starting `passport serve` on a
// free port (pinned to a CPU list with taskset when it can be), waiting until it is ready,
// stopping it, and naming the machine's CPU for the reports.
package benchkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/passport-idp/passport/internal/passport"
)

// Secret is the servers' secret key in benchmarks (base64 of 32+ bytes).
const Secret = "YmVuY2gtc2VjcmV0LWtleS1mb3ItcGFzc3BvcnQtYmVuY2htYXJrcw=="

// Server is a passport process under test.
type Server struct {
	Cmd     *exec.Cmd
	URL     string
	Startup time.Duration // from start to the first ready /readyz
}

// Start runs binary's `serve` against the database dsn with the argon2id settings argon,
// pinned to cpu ("" for none), with env added to the environment (PASSPORT_…=…), and
// returns once /readyz answers 200 (at most 20 s).
func Start(ctx context.Context, binary, cpu, dsn string, argon passport.Argon2Params, env ...string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	args := []string{binary, "serve"}
	if cpu != "" {
		if path, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{path, "-c", cpu}, args...)
		} else {
			fmt.Println("taskset is not available: the server is NOT pinned to one CPU")
		}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(),
		"PASSPORT_DATABASE_URL="+dsn,
		"PASSPORT_SECRET_KEY="+Secret,
		"PASSPORT_LISTEN="+addr,
		"PASSPORT_ISSUER=http://"+addr,
		"PASSPORT_LOG_LEVEL=error",
		fmt.Sprintf("PASSPORT_PASSWORD_ARGON2_MEMORY_KIB=%d", argon.MemoryKiB),
		fmt.Sprintf("PASSPORT_PASSWORD_ARGON2_ITERATIONS=%d", argon.Iterations),
		fmt.Sprintf("PASSPORT_PASSWORD_ARGON2_PARALLELISM=%d", argon.Parallelism),
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Cmd: cmd, URL: "http://" + addr}
	for time.Since(began) < 20*time.Second {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.Startup = time.Since(began)
				return s, nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.Stop()
	return nil, errors.New("server did not become ready")
}

// Stop interrupts the server and waits for it (killing it after 20 s).
func (s *Server) Stop() {
	if s.Cmd.Process == nil {
		return
	}
	_ = s.Cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.Cmd.Process.Kill()
	}
}

// CPUModel names the machine's CPU and counts them, from /proc/cpuinfo.
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	model, n := "", 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "processor") {
			n++
		}
		if v, ok := strings.CutPrefix(line, "model name"); ok && model == "" {
			model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return fmt.Sprintf("%d × %s", n, model)
}

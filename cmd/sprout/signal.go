package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// interruptContext returns a context cancelled by the first Ctrl-C (SIGINT)
// or SIGTERM, after telling the user on w what happens next. The first
// signal lets a run finish its step and checkpoint; a second one gets Go's
// default behaviour and ends the process at once. stop releases the signals.
func interruptContext(w io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch) // a second signal now ends the process
			fmt.Fprintf(w, "\nsprout: %v: finishing the current step and writing a checkpoint (again to quit at once)\n", s)
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}

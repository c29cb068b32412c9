package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sproutml/sprout/trainer"
)

// stopSignals stop a run cleanly: Ctrl-C, kill's default and a closed
// terminal.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// caught is the cause of a context that a signal cancelled.
type caught struct{ sig os.Signal }

func (c caught) Error() string { return "sprout: " + c.sig.String() }

// interruptContext returns a context cancelled by the first of stopSignals,
// after telling the user on w what happens next (next). The first signal
// lets a run finish its step and checkpoint; a second one ends the process
// at once with 128+signal (the checkpoint protocol keeps the last good
// one). stop releases the signals to their disposition at start: call it as
// soon as the interruptible work ends, so that a signal after it is not
// swallowed. SIGHUP stays ignored where the process was started ignoring it
// (nohup).
func interruptContext(w io.Writer, next string) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	var sigs []os.Signal
	for _, s := range stopSignals {
		// nohup's SIGHUP stays ignored; SIGINT is caught even where a
		// shell ignored it for a background job, so that a script's
		// kill -INT still checkpoints, as it always did.
		if s != syscall.SIGHUP || !signal.Ignored(s) {
			sigs = append(sigs, s)
		}
	}
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case s := <-ch:
			fmt.Fprintf(w, "\nsprout: %v: %s (again to quit at once)\n", s, next)
			cancel(caught{s})
		case <-done:
			return
		}
		select {
		case s := <-ch:
			// Exit rather than restore the signal's disposition, which may
			// be "ignore" (a shell's background job); a save cut short
			// leaves the last good checkpoint.
			fmt.Fprintf(w, "sprout: %v again: quitting at once\n", s)
			os.Exit(signalled{sig: s}.exitCode())
		case <-done:
		}
	}()
	stopped := false
	return ctx, func() {
		if stopped {
			return
		}
		stopped = true
		signal.Stop(ch)
		close(done)
		<-exited
		cancel(nil)
	}
}

// signalled is the error of work that a signal stopped: the process exits
// with 128+signal, as a shell reports a process the signal ended.
type signalled struct {
	err error
	sig os.Signal
}

func (e signalled) Error() string { return e.err.Error() }
func (e signalled) Unwrap() error { return e.err }

// exitCode is 128 plus the signal's number (130 for Ctrl-C, 143 for
// SIGTERM, 129 for SIGHUP).
func (e signalled) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// withSignal marks err as caused by the signal that cancelled ctx, if one
// did and err is an interruption.
func withSignal(ctx context.Context, err error) error {
	var c caught
	if err == nil || !errors.As(context.Cause(ctx), &c) || !errors.Is(err, trainer.ErrInterrupted) && !errors.Is(err, context.Canceled) {
		return err
	}
	return signalled{err, c.sig}
}

// Command pause is the sandbox ("pause") image of `make e2e`'s cluster: our
// machines reach no image registry, so registry.k8s.io/pause cannot be
// pulled. It sleeps until SIGTERM or SIGINT and reaps any child it inherits
// (pods that share their process namespace). With -hello it also answers
// HTTP on :8080 ("ok"), the image of the e2e script's trivial pod.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	hello := flag.Bool("hello", false, "serve HTTP on :8080 (GET / answers ok)")
	flag.Parse()
	if *hello {
		go func() {
			http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
			if err := http.ListenAndServe(":8080", nil); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}()
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			for {
				var ws syscall.WaitStatus
				if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}

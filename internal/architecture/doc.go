// Package architecture holds tests that keep the code's layout as docs/architecture.md describes it.
package architecture

// Command vipd is the vipd agent and its command-line tools: run, check,
// status, migrate, genhash, version.
package main

import "os"

func main() {
	os.Exit(execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// Command why-denied tells why a call to an AWS Lambda function is denied:
// which policy blocked it, which statement came closest, and what to change.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}

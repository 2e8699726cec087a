// peer.go: the Go twin of tests/helpers/peer.c (same arguments, same
// output), built with CGO_ENABLED=0: a static Go binary that makes its
// sockets with raw system calls, out of LD_PRELOAD's reach. Go itself sets
// keepalive on every connection (15 s idle and interval, Go 1.13 and later),
// which is what sockfix attach's precedence settings are tested against.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
)

func fail(what string, err error) {
	fmt.Printf("error=%s: %v\n", what, err)
	os.Exit(2)
}

func fdOf(c syscall.Conn) int {
	raw, err := c.SyscallConn()
	if err != nil {
		fail("fd", err)
	}
	fd := -1
	if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		fail("fd", err)
	}
	return fd
}

func address(family, port string) (string, string) {
	if family == "4" {
		return "tcp4", "127.0.0.1:" + port
	}
	return "tcp6", "[::1]:" + port
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: peer-go serve|connect 4|6 PORT")
		os.Exit(64)
	}
	network, addr := address(os.Args[2], os.Args[3])
	in := bufio.NewScanner(os.Stdin)
	var keep []net.Conn
	switch os.Args[1] {
	case "serve":
		l, err := net.Listen(network, addr)
		if err != nil {
			fail("listen", err)
		}
		fmt.Printf("listener.fd=%d\nport=%s\nready\n", fdOf(l.(*net.TCPListener)), os.Args[3])
		for in.Scan() {
			if !strings.HasPrefix(in.Text(), "accept") {
				continue
			}
			c, err := l.Accept()
			if err != nil {
				fail("accept", err)
			}
			keep = append(keep, c)
			fmt.Printf("accepted.fd=%d\ndone\n", fdOf(c.(*net.TCPConn)))
		}
	case "connect":
		c, err := net.Dial(network, addr)
		if err != nil {
			fail("connect", err)
		}
		keep = append(keep, c)
		fmt.Printf("client.fd=%d\nready\n", fdOf(c.(*net.TCPConn)))
		for in.Scan() {
		}
	default:
		os.Exit(64)
	}
	for _, c := range keep {
		c.Close()
	}
}

// Interop peer for test/interop/smux.test.ts: the xtaci/smux that session-manager-plugin
// vendors (copied unmodified into ./xtaci-smux) on a TCP connection, as either end.
//
//	server: listen on 127.0.0.1:0, print "LISTEN <port>", run smux.Server on every connection
//	        and echo every stream the peer opens (io.Copy, then Close). With -open N it also
//	        opens N streams itself and checks that the peer echoes them.
//	client: dial -addr, run smux.Client, open -n streams in parallel, write -size random
//	        bytes on each, read the echo back and compare. With -accept it also echoes the
//	        streams the peer opens.
//
// Every line it prints is an event the test reads: STREAM <id> (accepted), OK <id> <bytes>,
// FAIL <message>, CLOSED <error>, DONE.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"sync"
	"time"

	"github.com/xtaci/smux"
)

var out = struct {
	sync.Mutex
}{}

func say(format string, args ...interface{}) {
	out.Lock()
	defer out.Unlock()
	fmt.Printf(format+"\n", args...)
}

func config(version, keepAliveMs, timeoutMs int) *smux.Config {
	c := smux.DefaultConfig()
	c.Version = version
	if keepAliveMs <= 0 {
		c.KeepAliveDisabled = true
	} else {
		c.KeepAliveInterval = time.Duration(keepAliveMs) * time.Millisecond
		c.KeepAliveTimeout = time.Duration(timeoutMs) * time.Millisecond
	}
	if err := smux.VerifyConfig(c); err != nil {
		say("FAIL config: %v", err)
		os.Exit(2)
	}
	return c
}

func echo(s *smux.Stream) {
	say("STREAM %d", s.ID())
	io.Copy(s, s)
	s.Close()
}

func acceptLoop(sess *smux.Session) {
	for {
		s, err := sess.AcceptStream()
		if err != nil {
			say("CLOSED %v", err)
			return
		}
		go echo(s)
	}
}

// roundTrip writes size random bytes on a new stream and expects them back.
func roundTrip(sess *smux.Session, i, size int) error {
	s, err := sess.OpenStream()
	if err != nil {
		return fmt.Errorf("open: %v", err)
	}
	defer s.Close()
	payload := make([]byte, size)
	rand.New(rand.NewSource(int64(i) + 1)).Read(payload)
	werr := make(chan error, 1)
	go func() {
		_, err := s.Write(payload)
		werr <- err
	}()
	got := make([]byte, size)
	if _, err := io.ReadFull(s, got); err != nil {
		return fmt.Errorf("stream %d: read after %d bytes: %v", s.ID(), len(got), err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("stream %d: write: %v", s.ID(), err)
	}
	if !bytes.Equal(got, payload) {
		return fmt.Errorf("stream %d: echo differs", s.ID())
	}
	say("OK %d %d", s.ID(), size)
	return nil
}

func roundTrips(sess *smux.Session, n, size int) bool {
	var wg sync.WaitGroup
	failed := false
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := roundTrip(sess, i, size); err != nil {
				say("FAIL %v", err)
				mu.Lock()
				failed = true
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	return !failed
}

func main() {
	mode := flag.String("mode", "server", "server or client")
	addr := flag.String("addr", "", "client: address to dial")
	version := flag.Int("version", 1, "smux protocol version")
	keepAlive := flag.Int("keepalive-ms", 10000, "keep-alive interval in ms; 0 disables keep-alive")
	timeout := flag.Int("timeout-ms", 30000, "keep-alive timeout in ms")
	n := flag.Int("n", 50, "streams to open")
	size := flag.Int("size", 65536, "bytes per stream")
	accept := flag.Bool("accept", false, "client: also echo the streams the server opens")
	open := flag.Int("open", 0, "server: streams to open on each connection")
	flag.Parse()
	cfg := config(*version, *keepAlive, *timeout)

	switch *mode {
	case "server":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			say("FAIL listen: %v", err)
			os.Exit(1)
		}
		say("LISTEN %d", ln.Addr().(*net.TCPAddr).Port)
		for {
			conn, err := ln.Accept()
			if err != nil {
				say("FAIL accept: %v", err)
				os.Exit(1)
			}
			sess, err := smux.Server(conn, cfg)
			if err != nil {
				say("FAIL server: %v", err)
				os.Exit(1)
			}
			go acceptLoop(sess)
			if *open > 0 {
				go func() {
					if roundTrips(sess, *open, *size) {
						say("DONE")
					}
				}()
			}
		}
	case "client":
		conn, err := net.Dial("tcp", *addr)
		if err != nil {
			say("FAIL dial: %v", err)
			os.Exit(1)
		}
		sess, err := smux.Client(conn, cfg)
		if err != nil {
			say("FAIL client: %v", err)
			os.Exit(1)
		}
		accepting := make(chan struct{})
		if *accept {
			go func() {
				acceptLoop(sess)
				close(accepting)
			}()
		}
		ok := roundTrips(sess, *n, *size)
		if !ok {
			os.Exit(1)
		}
		say("DONE")
		if *accept {
			// Keep echoing until the peer ends the session.
			<-accepting
		}
		sess.Close()
	default:
		say("FAIL unknown mode %q", *mode)
		os.Exit(2)
	}
}

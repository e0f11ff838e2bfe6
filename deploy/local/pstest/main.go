// pstest-server serves cloud.google.com/go/pubsub/v2/pstest (the Go client's in-memory fake of
// the Pub/Sub API) as a plain gRPC server on 127.0.0.1, so the Node client can talk to it like
// to the emulator (PUBSUB_EMULATOR_HOST). A second implementation of the API: tests that judge
// delivery semantics (ordering after a crash, issue #12) do not rest on one fake.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	port := flag.Int("port", 8086, "port on 127.0.0.1")
	flag.Parse()
	srv := pstest.NewServerWithAddress(fmt.Sprintf("127.0.0.1:%d", *port))
	log.Printf("pstest serving on %s", srv.Addr)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	if err := srv.Close(); err != nil {
		log.Printf("close: %v", err)
	}
}

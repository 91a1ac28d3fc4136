package kernel

import (
	"encoding/json"
	"testing"

	"github.com/gopherlab/gopherlab/kernel/wire"
)

// BenchmarkExecuteRoundTrip measures the protocol layer alone: an
// execute_request over ZeroMQ to its reply and the idle status on iopub,
// with an engine that does no work.
func BenchmarkExecuteRoundTrip(b *testing.B) {
	_, c, _ := startTest(b)
	waitWelcome(b, c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := c.send(c.shell, c.signer, "execute_request", map[string]any{"code": "nop"})
		rep := c.recv(c.shell)
		if rep.Header.MsgType != "execute_reply" {
			b.Fatal(rep.Header.MsgType)
		}
		for {
			m := <-c.msgs
			var ph wire.Header
			json.Unmarshal(m.ParentHeader, &ph)
			if ph.MsgID == req.Header.MsgID && m.Header.MsgType == "status" && string(m.Content) == `{"execution_state":"idle"}` {
				break
			}
		}
	}
}

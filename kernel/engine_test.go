package kernel

import (
	"encoding/json"
	"testing"
)

// is_complete_reply has indent with "incomplete", even when empty, and
// not otherwise.
func TestIsCompleteReplyJSON(t *testing.T) {
	for _, tc := range []struct {
		r    IsCompleteReply
		want string
	}{
		{IsCompleteReply{Status: "incomplete"}, `{"status":"incomplete","indent":""}`},
		{IsCompleteReply{Status: "incomplete", Indent: "\t"}, `{"status":"incomplete","indent":"\t"}`},
		{IsCompleteReply{Status: "complete"}, `{"status":"complete"}`},
		{IsCompleteReply{Status: "invalid", Indent: "  "}, `{"status":"invalid"}`},
	} {
		b, err := json.Marshal(tc.r)
		if err != nil || string(b) != tc.want {
			t.Errorf("%+v: %s, %v; want %s", tc.r, b, err, tc.want)
		}
	}
}

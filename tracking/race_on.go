//go:build race

package tracking

// guardsData: see race_off.go.
const guardsData = false

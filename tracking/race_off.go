//go:build !race

package tracking

// guardsData is whether the writer guards the memory of logged data
// (guardTable). It reads that memory after the fit, which the race
// detector would report as a race with the caller's next write to its
// own data; under the detector, data is compared every time instead.
const guardsData = true

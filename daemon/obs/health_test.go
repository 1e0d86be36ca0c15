package obs

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fixedSource is a HealthSource that reports h.
type fixedSource struct{ h DaemonHealth }

func (f fixedSource) DaemonHealth() DaemonHealth { return f.h }

// TestHTTPHealthDaemon: /api/health reports the daemon's state beside the
// build: the age of the last upload, a download that never happened as
// null, SFTP's last error, the disk, the watch mode and the overdue
// alarms (an empty list, not null, when none).
func TestHTTPHealthDaemon(t *testing.T) {
	upload := time.Now().Add(-90 * time.Second)
	src := fixedSource{DaemonHealth{Upload: Activity{Last: upload},
		SFTP: SFTPHealth{Checked: time.Now(), LastError: "dial tcp: connection refused"}, DiskFull: true,
		DiskFullError: "write x: no space left on device", Watch: WatchRescans}}
	s, err := NewHTTPServer(HTTPConfig{Addr: "127.0.0.1:0", Logger: zerolog.Nop(), Health: src})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/health", nil))
	var h struct {
		Daemon map[string]any `json:"daemon"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil || h.Daemon == nil {
		t.Fatalf("GET /api/health: %v\n%s", err, rec.Body)
	}
	up := h.Daemon["upload"].(map[string]any)
	if age, ok := up["ageSeconds"].(float64); !ok || age < 90 || age > 150 {
		t.Errorf("upload age %v; want about 90 s", up["ageSeconds"])
	}
	if down := h.Daemon["download"].(map[string]any); down["ageSeconds"] != nil || down["last"] != nil {
		t.Errorf("download %v; want no time and a null age", down)
	}
	sftp := h.Daemon["sftp"].(map[string]any)
	if sftp["reachable"] != false || sftp["lastError"] != "dial tcp: connection refused" {
		t.Errorf("sftp %v", sftp)
	}
	if h.Daemon["diskFull"] != true || h.Daemon["watch"] != "rescans" {
		t.Errorf("disk, watch: %v", h.Daemon)
	}
	if o, ok := h.Daemon["overdue"].([]any); !ok || len(o) != 0 {
		t.Errorf("overdue %v; want []", h.Daemon["overdue"])
	}
	if got := s.Health(); got.Daemon == nil || got.Daemon.Upload.AgeSeconds == nil || got.Build.GoVersion == "" {
		t.Errorf("Health() = %+v", got)
	}
}

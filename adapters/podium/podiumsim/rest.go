package podiumsim

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

// maxBody bounds request bodies; a create request is small.
const maxBody = 1 << 20

type createBody struct {
	DeploymentID string          `json:"deployment_id"`
	AgentType    string          `json:"agent_type"`
	TenantID     string          `json:"tenant_id"`
	SessionID    string          `json:"session_id"`
	Secrets      json.RawMessage `json:"secrets"`
}

type instanceBody struct {
	InstanceID   string  `json:"instance_id"`
	DeploymentID string  `json:"deployment_id"`
	AgentType    string  `json:"agent_type"`
	SessionID    string  `json:"session_id,omitempty"`
	Status       string  `json:"status"`
	LatestSeq    *uint64 `json:"latest_seq,omitempty"`
}

func (s *Sim) createInstance(w http.ResponseWriter, r *http.Request) {
	var b createBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&b); err != nil {
		simkit.WriteError(w, http.StatusBadRequest, "invalid_request", "body is not a JSON object")
		return
	}
	var secrets map[string]string
	if len(b.Secrets) > 0 && string(b.Secrets) != "null" {
		var err error
		if secrets, err = openSecrets(s.opts.SecretsKey, b.Secrets); err != nil {
			simkit.WriteError(w, http.StatusBadRequest, "invalid_secrets", err.Error())
			return
		}
	}
	info, err := s.eng.CreateInstance(CreateRequest{
		DeploymentID: b.DeploymentID, AgentType: b.AgentType, TenantID: b.TenantID, SessionID: b.SessionID, Secrets: secrets,
	})
	if err != nil {
		writeEngineError(w, err)
		return
	}
	simkit.WriteJSON(w, http.StatusCreated, instanceBody{
		InstanceID: info.InstanceID, DeploymentID: info.DeploymentID, AgentType: info.AgentType,
		SessionID: info.SessionID, Status: info.Status,
	})
}

func (s *Sim) getInstance(w http.ResponseWriter, r *http.Request) {
	info, err := s.eng.Instance(r.PathValue("id"))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, instanceBody{
		InstanceID: info.InstanceID, DeploymentID: info.DeploymentID, AgentType: info.AgentType,
		SessionID: info.SessionID, Status: info.Status, LatestSeq: &info.LatestSeq,
	})
}

func (s *Sim) stopInstance(w http.ResponseWriter, r *http.Request) {
	if err := s.eng.StopInstance(r.PathValue("id")); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := uintParam(q.Get("after"), 0)
	if err != nil {
		simkit.WriteError(w, http.StatusBadRequest, "invalid_request", "after must be a non-negative integer")
		return
	}
	limit, err := uintParam(q.Get("limit"), defaultLimit)
	if err != nil || limit < 1 {
		simkit.WriteError(w, http.StatusBadRequest, "invalid_request", "limit must be a positive integer")
		return
	}
	frames, latest, err := s.eng.Events(r.PathValue("id"), after, int(min(limit, uint64(maxLimit))))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	if frames == nil {
		frames = []Frame{}
	}
	simkit.WriteJSON(w, http.StatusOK, map[string]any{"events": frames, "latest_seq": latest})
}

func (s *Sim) listFiles(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	depth, err := uintParam(q.Get("depth"), defaultDepth)
	if err != nil {
		simkit.WriteError(w, http.StatusBadRequest, "invalid_request", "depth must be a non-negative integer")
		return
	}
	entries, err := s.eng.ListFiles(r.PathValue("id"), q.Get("path"), int(min(depth, maxDepth)))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

func (s *Sim) readFile(w http.ResponseWriter, r *http.Request) {
	fc, err := s.eng.ReadFile(r.PathValue("id"), r.URL.Query().Get("path"))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, fc)
}

func (s *Sim) fileHistory(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	its, err := s.eng.FileHistory(r.PathValue("id"), p)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, map[string]any{"path": cleanPath(p), "iterations": its})
}

func (s *Sim) fileAt(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	it, err := uintParam(q.Get("iteration"), 0)
	if err != nil || it < 1 {
		simkit.WriteError(w, http.StatusBadRequest, "invalid_request", "iteration must be a positive integer")
		return
	}
	fc, err := s.eng.FileAt(r.PathValue("id"), q.Get("path"), int(min(it, 1<<31-1)))
	if err != nil {
		writeEngineError(w, err)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, fc)
}

func uintParam(s string, def uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseUint(s, 10, 64)
}

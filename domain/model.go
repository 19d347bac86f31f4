package domain

// Model is one entry of the model catalog (Ensemble): what a client may
// pick for a session, with what it can do and what it costs.
type Model struct {
	ID            string `json:"id"`
	Provider      string `json:"provider"`
	Streaming     bool   `json:"streaming"`
	Tools         bool   `json:"tools"`
	ContextWindow int    `json:"contextWindow"` // tokens
	// Prices are in USD per million tokens.
	InputPricePerMTok  float64 `json:"inputPricePerMTok"`
	OutputPricePerMTok float64 `json:"outputPricePerMTok"`
}

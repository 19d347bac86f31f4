package ensemblesim

import "slices"

// Model is one catalog entry as it travels on the wire.
type Model struct {
	ID            string       `json:"id"`
	Provider      string       `json:"provider"`
	Capabilities  Capabilities `json:"capabilities"`
	ContextWindow int          `json:"context_window"`
	Pricing       Pricing      `json:"pricing"`
}

// Capabilities say what a model can do.
type Capabilities struct {
	Streaming bool `json:"streaming"`
	Tools     bool `json:"tools"`
}

// Pricing is in USD per million tokens.
type Pricing struct {
	InputPerMTok  float64 `json:"input_per_mtok"`
	OutputPerMTok float64 `json:"output_per_mtok"`
}

// defaultModels is a small catalog across the provider families Ensemble
// names, with list prices of the time; "mock" is Ensemble's test provider,
// which the simulated agents stand for.
var defaultModels = []Model{
	{ID: "claude-sonnet-4", Provider: "anthropic", Capabilities: Capabilities{true, true}, ContextWindow: 200_000, Pricing: Pricing{3, 15}},
	{ID: "claude-opus-4", Provider: "anthropic", Capabilities: Capabilities{true, true}, ContextWindow: 200_000, Pricing: Pricing{15, 75}},
	{ID: "claude-3-5-haiku", Provider: "anthropic", Capabilities: Capabilities{true, true}, ContextWindow: 200_000, Pricing: Pricing{0.8, 4}},
	{ID: "gpt-4.1", Provider: "openai", Capabilities: Capabilities{true, true}, ContextWindow: 1_047_576, Pricing: Pricing{2, 8}},
	{ID: "gemini-2.5-pro", Provider: "gemini", Capabilities: Capabilities{true, true}, ContextWindow: 1_048_576, Pricing: Pricing{1.25, 10}},
	{ID: "llama-3.3-70b-instruct", Provider: "fireworks", Capabilities: Capabilities{true, false}, ContextWindow: 131_072, Pricing: Pricing{0.9, 0.9}},
	{ID: "mock", Provider: "mock", Capabilities: Capabilities{true, true}, ContextWindow: 32_768, Pricing: Pricing{0, 0}},
}

// DefaultModels returns the catalog a new Sim serves.
func DefaultModels() []Model { return slices.Clone(defaultModels) }

// Package ports declares what the app needs from the outside world. Adapters
// implement these interfaces; the app depends only on them.
package ports

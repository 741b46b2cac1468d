package sim

import "strings"

func joinTail(tail []string) string { return "  " + strings.Join(tail, "\n  ") }

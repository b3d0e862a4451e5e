"""Loss analyses: where a line's planned busy time went (advice only, no actions)."""

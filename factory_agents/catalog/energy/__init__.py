"""Energy: time-of-use tariffs and load shifting of deferrable loads within their deadlines."""

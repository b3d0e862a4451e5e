"""Supply-chain analytics: demand and lead-time statistics, inventory models, material shortages."""

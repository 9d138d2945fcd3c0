"""Operator tools that talk to a running pikadb over the network: bigkeys, bench."""

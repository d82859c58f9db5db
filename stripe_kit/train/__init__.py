"""Training runtime: rl_games PPO through Isaac Lab's wrapper, into self-describing run directories."""

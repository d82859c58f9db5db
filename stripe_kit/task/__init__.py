"""Task interface: training specs compiled to registered Isaac Lab tasks, and scene-aware MDP terms."""

from . import mdp
from .agent import AgentSettings
from .env import StripeEnv, StripeEnvCfg
from .spec import REGISTERED, SimSettings, TrainingSpec

__all__ = ["REGISTERED", "AgentSettings", "SimSettings", "StripeEnv", "StripeEnvCfg", "TrainingSpec", "mdp"]

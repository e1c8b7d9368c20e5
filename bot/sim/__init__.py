"""Local stand-ins over real HTTP for the services evalbot talks to (Hub, AA, GitHub)."""

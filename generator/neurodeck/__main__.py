from neurodeck.cli import run

run()

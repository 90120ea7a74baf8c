"""arr_actors: a terminal monitor and launcher for ML training on Google Cloud."""

from arr_actors.compat import quiet_python_support_warnings

# Here, so that every process of the program (fetch children, the emulator) has it
# before any Google client library is imported.
quiet_python_support_warnings()

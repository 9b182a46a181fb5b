# An empty gunicorn configuration: benchmarks that compare two trees start both servers with
# only their command-line options (one sync worker), never the project's gunicorn.conf.py, which
# gunicorn would otherwise read from the current directory and which the older tree lacks.

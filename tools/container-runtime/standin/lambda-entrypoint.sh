#!/bin/sh
# Stand-in for the AWS base image's /lambda-entrypoint.sh: the handler is the first argument.
# Outside Lambda (no AWS_LAMBDA_RUNTIME_API) the Runtime Interface Emulator serves the Runtime API
# on :8080 (POST /2015-03-31/functions/function/invocations).
if [ $# -lt 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
export AWS_EXECUTION_ENV="${AWS_EXECUTION_ENV:-AWS_Lambda_python3.11}"
export PYTHONPATH="${LAMBDA_TASK_ROOT:-/var/task}${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  exec /usr/local/bin/aws-lambda-rie /var/lang/bin/python3 -m awslambdaric "$@"
else
  exec /var/lang/bin/python3 -m awslambdaric "$@"
fi

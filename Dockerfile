# The app as a container for Azure Functions on Azure Container Apps (hostingPlan ContainerApps): the same
# function_app.py and packages the Function App plans run, on Microsoft's Functions Python base image, which
# carries the Functions host and the Python worker. azd builds it remotely in the template's registry
# (azure.yaml: docker.remoteBuild), so no local Docker engine is needed.
# PYTHON_VERSION picks the base image's Python; azure.yaml's docker.buildArgs passes the azd environment's
# PYTHON_VERSION (the one every plan runs), and its default here is main.bicep's pythonVersion default (3.11-3.13).
# On 3.13 the base image's worker runs the azure-functions-runtime that requirements.txt pins.
ARG PYTHON_VERSION=3.13
FROM mcr.microsoft.com/azure-functions/python:4-python${PYTHON_VERSION}

ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true

# Dependencies first, so a code change reuses this layer.
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt

COPY host.json function_app.py /home/site/wwwroot/
COPY durable_app /home/site/wwwroot/durable_app
COPY entities /home/site/wwwroot/entities
COPY orchestrations /home/site/wwwroot/orchestrations

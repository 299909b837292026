"""A stand-in chalice app for tests/infra: one route, one SQS consumer, one schedule."""
from chalice import Chalice

app = Chalice(app_name="fake", configure_logs=False)


@app.route("/ping")
def ping():
    return {"ok": True}


@app.on_sqs_message(queue="fake-mail", batch_size=1)
def send_mail(event):
    return None


@app.schedule("rate(1 hour)")
def sweep(event):
    return None

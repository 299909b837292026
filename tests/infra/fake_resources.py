"""Declarations for the fake app in tests/infra/fake_app: a table, a queue, a secret, an identity
(no topics, no mail feedback, no templates: the real app has those).

Pure data (imports only chalicelib.resources): the CDK side (fake_stack.py, .venv-infra) builds
the stack from it and the checks (main venv) compare the template with it.
"""
from chalicelib.resources import API_FUNCTION, Index, Queue, Resources, Secret, Table

FAKE_RESOURCES = Resources(
    tables=(
        Table("FakeTable", "FAKE_TABLE_NAME", "fake",
              indexes=(Index("by_owner", "owner_pk"), Index("by_count", "count_pk", range_key="n", range_type="N"))),
    ),
    queues=(
        Queue("MailQueue", "FAKE_MAIL_QUEUE", "fake-mail", handler="send_mail",
              batch_size=5, consumer_timeout_seconds=30, max_receive_count=7, senders=(API_FUNCTION, "sweep")),
    ),
    secrets=(Secret("FakeKey", "FAKE_KEY_SECRET", "fake/key"),),
    email_identities=("example.com",),
    mail_senders=("send_mail",),  # no sender_verifiers: SES sending is scoped to example.com
)

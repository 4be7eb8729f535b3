"""The outbox's messages lose the unique index on their webhook-id.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08

Every report taken in while a subscription listens writes a message, and nothing looks a
message up by its `uid` (the `webhook-id`: receivers de-duplicate by it; here a delivery
reaches its message by id). The index cost each message an insert at a random place in a
B-tree that only grows: ~5.5 of the ~34 µs PostgreSQL spends per message row (measured with a
small table), and, once it outgrows memory between checkpoints, a full-page image in the WAL
for most inserts. The uid is 122 random bits from `uuid4` (`events/outbox._uid`), unique
without an index to say so.
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("uq_webhook_message_uid", "webhook_message", type_="unique")


def downgrade() -> None:
    op.create_unique_constraint("uq_webhook_message_uid", "webhook_message", ["uid"])

"""The address key function names its helpers with their schema.

pg_restore (as pg_dump writes it) runs with an empty search_path; the generated `search_key`
column then computed `address_search_key`, whose helpers it could not find, and a restore
of any database with address points failed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEARCH_KEY = r"""
CREATE OR REPLACE FUNCTION address_search_key(address text, village text, road text,
                                              number text, poi text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN coalesce({schema}address_key_part(village), {schema}address_key_part(road),
                  {schema}address_number_key(number), {schema}address_key_part(poi)) IS NULL
      THEN coalesce({schema}address_words(address), '')
    ELSE trim(coalesce({schema}address_key_part(village) || ' ', '')
              || coalesce({schema}address_key_part(road) || ' ', '')
              || coalesce({schema}address_number_key(number) || ' ', '')
              || coalesce({schema}address_key_part(poi), ''))
  END
$$
"""


def upgrade() -> None:
    op.execute(SEARCH_KEY.format(schema="public."))


def downgrade() -> None:
    op.execute(SEARCH_KEY.format(schema=""))

"""Geocoder: a normalised search key on address points, with a trigram index for nearest keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

`address_search_key` is the SQL twin of `gis_service.geocode.normalize.search_key`: the parts
(NFKC, only Han, letters and digits kept, upper case; the number as "18" or "18-2") joined by
spaces. A row without parts gets its address cut into words the same way (after 村, 路, 街 …,
around the number). pg_trgm pads every word, so a short road name keeps its own trigrams.
Being a stored generated column, every writer (the COPY importer included) keeps it current.

The trigram index is GiST, not GIN: the geocoder asks for the nearest keys (`<->`, a KNN
search GIN cannot do), which needs no similarity threshold and stops after the first rows.

No pattern here uses "(?:": Alembic runs these as text(), where ":name" is a bind parameter.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEY_PART = r"""
CREATE FUNCTION address_key_part(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT nullif(upper(regexp_replace(normalize(value, NFKC),
                                     '[^0-9A-Za-z〇㐀-䶿一-鿿]', '', 'g')), '')
$$
"""

NUMBER_KEY = r"""
CREATE FUNCTION address_number_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT substring(
    regexp_replace(
      regexp_replace(regexp_replace(normalize(value, NFKC), '[之—–~]', '-', 'g'),
                     '[^0-9-]', '', 'g'),
      '(^|[^0-9])0+([0-9])', '\1\2', 'g')
    FROM '([0-9]+(-[0-9]+)?)')
$$
"""

ADDRESS_WORDS = r"""
CREATE FUNCTION address_words(address text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT nullif(trim(regexp_replace(regexp_replace(regexp_replace(
    upper(regexp_replace(normalize(address, NFKC), '[^0-9A-Za-z〇㐀-䶿一-鿿-]', '', 'g')),
    '(省|市(?!场)|区|县|镇|乡|街道|村|大道|路|街|巷|弄|组)', '\1 ', 'g'),
    '0*([0-9]+(-[0-9]+)?)(号|(?![0-9组弄巷]))', ' \1 ', 'g'),
    '[ -]+', ' ', 'g')), '')
$$
"""

SEARCH_KEY = r"""
CREATE FUNCTION address_search_key(address text, village text, road text, number text,
                                   poi text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN coalesce(address_key_part(village), address_key_part(road),
                  address_number_key(number), address_key_part(poi)) IS NULL
      THEN coalesce(address_words(address), '')
    ELSE trim(coalesce(address_key_part(village) || ' ', '')
              || coalesce(address_key_part(road) || ' ', '')
              || coalesce(address_number_key(number) || ' ', '')
              || coalesce(address_key_part(poi), ''))
  END
$$
"""


def upgrade() -> None:
    for function in (KEY_PART, NUMBER_KEY, ADDRESS_WORDS, SEARCH_KEY):
        op.execute(function)
    op.execute("ALTER TABLE address_point ADD COLUMN search_key text NOT NULL GENERATED ALWAYS "
               "AS (address_search_key(address, village, road, number, poi)) STORED")
    # a longer signature than the default 12 bytes: keys hold 10–30 trigrams, and a
    # less saturated signature prunes more of the tree in a nearest-key search
    op.execute("CREATE INDEX ix_address_point_search_key_trgm ON address_point "
               "USING gist (search_key gist_trgm_ops(siglen=48))")
    # road and village lookups join on coalesce(village, '') so that NULL villages match
    op.execute("CREATE INDEX ix_address_point_village_road ON address_point "
               "((coalesce(village, '')), road)")


def downgrade() -> None:
    for index in ("ix_address_point_village_road", "ix_address_point_search_key_trgm"):
        op.execute(f"DROP INDEX {index}")
    op.execute("ALTER TABLE address_point DROP COLUMN search_key")
    for function in ("address_search_key(text, text, text, text, text)", "address_words(text)",
                     "address_number_key(text)", "address_key_part(text)"):
        op.execute(f"DROP FUNCTION {function}")

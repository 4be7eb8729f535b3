"""Every level-3 grid's people beyond its grid worker: "1+1+N" (Baoying) and a few of Guanlin's
"三长六员".

Each grid has its police group — the village's community officer (one per village, listed in
each of its grids under a code of that grid) and an auxiliary of its own —, the village's
grid liaison, two to four volunteers, and one to three of the three heads and six officers.
Roles are the service's (gis_service/people/team_roles.py). Names are drawn as the workers'
are; telephone numbers are in the unassigned 100 segment (no mobile number in China begins
with 10), so none of them rings anyone.
"""

from __future__ import annotations

import random

from demo_town.grids import TownGrids
from demo_town.names import committee, person

TEAM_HEADER = ("grid_code", "code", "name", "role", "phone", "organisation")
POLICE_STATION = "七都派出所"
HEADS_AND_OFFICERS = ("grid_head", "group_head", "household_head", "information_officer",
                      "mediator", "safety_officer", "environment_officer",
                      "publicity_officer", "service_officer")
VOLUNTEER_GROUPS = ("{village}志愿服务队", "{village}党员志愿服务队", "七都镇平安志愿者协会",
                    "七都镇巾帼志愿服务队")


class _Phones:
    """Unique numbers in the unassigned 100 segment."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.given: set[str] = set()

    def next(self) -> str:
        while True:
            number = f"100{self.rng.randrange(10**7, 10**8)}"  # not 10000…: a hotline
            if number not in self.given:
                self.given.add(number)
                return number


def build_teams(rng: random.Random, grids: TownGrids) -> list[list[str]]:
    """grid_team.csv rows: every level-3 grid's team, grid by grid."""
    phones = _Phones(rng)
    rows: list[list[str]] = []
    for village in grids.villages:
        officer, officer_phone = person(rng), phones.next()
        liaison, liaison_phone = person(rng), phones.next()
        office = committee(village.name)
        for cell in grids.cells_of(village.code):
            stem = cell.code.removeprefix("QD-")
            members = [("police_officer", officer, officer_phone, POLICE_STATION),
                       ("police_auxiliary", person(rng), phones.next(), POLICE_STATION),
                       ("liaison", liaison, liaison_phone, office)]
            for _ in range(rng.randint(2, 4)):
                group = rng.choice(VOLUNTEER_GROUPS).format(village=village.name)
                members.append(("volunteer", person(rng), phones.next(), group))
            for role in sorted(rng.sample(HEADS_AND_OFFICERS, rng.randint(1, 3)),
                               key=HEADS_AND_OFFICERS.index):
                members.append((role, person(rng), phones.next(), office))
            rows += [[cell.code, f"TM-{stem}-{k:02d}", name, role, phone, organisation]
                     for k, (role, name, phone, organisation) in enumerate(members, start=1)]
    return rows

"""A synthetic province for demos, tests and documentation: the shape of a real one after 2025, no real data.

At full scale: the Provincial Committee ("Tỉnh ủy Mẫu (dữ liệu mô phỏng)", code TU), 103 directly-subordinate Party
organisations, about 2,000 base organisations and 6,000 cells (DOMAIN.md, "Scale"). The 98 commune and ward branches
have three levels (province → commune or ward → village cells and chi bộ cơ sở, D1); five have four (the Party
agencies, the provincial People's Committee, the military, police and border guard committees, whose đảng bộ cơ sở
have cells of their own). The
three armed-forces branches and everything below them carry the armed-forces flag (D3).

Names are built from lists of common place-name syllables and organisation patterns; any likeness to a real place
is a coincidence of those patterns, and no person appears anywhere.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from shared.domain.tree import Unit, UnitKind, Version
from shared.ids import new_id
from shared.tree_export import write_units_xlsx

SAMPLE_ROOT_CODE = "TU"
SAMPLE_ROOT_NAME = "Tỉnh ủy Mẫu (dữ liệu mô phỏng)"
SAMPLE_VALID_FROM = date(2025, 7, 1)
"""The synthetic tree starts on the day the 2025 reorganisation took effect."""
DEFAULT_SEED = 2025

LEVEL_PROVINCE = "Tỉnh"
LEVEL_COMMUNE = "Cấp xã"
LEVEL_UPPER_BASE = "Cấp trên cơ sở"
LEVEL_BASE = "Cơ sở"
LEVEL_CELL = "Chi bộ"

_FIRST = (
    "An", "Bình", "Cẩm", "Đông", "Đức", "Gia", "Hòa", "Hải", "Hưng", "Hồng", "Khánh", "Kim", "Lạc", "Long", "Minh",
    "Mỹ", "Nam", "Nghĩa", "Ngọc", "Phú", "Phước", "Quang", "Quảng", "Sơn", "Tân", "Thạnh", "Thanh", "Thuận", "Trung",
    "Vĩnh", "Xuân", "Yên",
)  # fmt: skip
_SECOND = (
    "An", "Bình", "Châu", "Điền", "Định", "Đông", "Giang", "Hà", "Hiệp", "Hòa", "Hội", "Hưng", "Lâm", "Lộc", "Lợi",
    "Long", "Mỹ", "Nghĩa", "Ninh", "Phong", "Phú", "Phước", "Quý", "Sơn", "Tân", "Thành", "Thịnh", "Thọ", "Thới",
    "Thuận", "Tiến", "Trung", "Vinh", "Xuân",
)  # fmt: skip
_BUSINESS = (
    "Thành Đạt", "Hưng Thịnh", "Phú Gia", "Tân Tiến", "Đại Phát", "Minh Khang", "Hoàng Long", "Sao Mai", "Phương Nam",
    "Thái Bình Dương", "Trường Sơn", "Hòa Phát Mẫu", "Đồng Tâm", "Kim Ngân", "Bảo An", "Việt Tiến", "Nam Việt",
    "Quang Minh", "Hải Đăng", "Thiên Phú",
)  # fmt: skip
_CELL_UNITS = (
    "Phòng Hành chính - Tổng hợp", "Phòng Kế hoạch - Tài chính", "Phòng Nghiệp vụ", "Phòng Tổ chức cán bộ",
    "Tổ Khoa học tự nhiên", "Tổ Khoa học xã hội", "Khoa Nội", "Khoa Ngoại", "Tổ Kỹ thuật", "Bộ phận Kinh doanh",
    "Phòng Thanh tra", "Bộ phận Một cửa", "Tổ Văn phòng", "Phòng Quản lý chất lượng",
)  # fmt: skip
_PARTY_AGENCIES = (
    "Văn phòng Tỉnh ủy", "Ban Tổ chức Tỉnh ủy", "Ủy ban Kiểm tra Tỉnh ủy", "Ban Tuyên giáo và Dân vận Tỉnh ủy",
    "Ban Nội chính Tỉnh ủy", "Ban Chính sách, chiến lược Tỉnh ủy", "Trường Chính trị tỉnh",
    "Báo và Phát thanh, Truyền hình tỉnh", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh",
    "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh", "Tòa án nhân dân tỉnh",
    "Viện Kiểm sát nhân dân tỉnh", "Hội Nông dân tỉnh", "Tỉnh đoàn", "Hội Liên hiệp Phụ nữ tỉnh",
    "Hội Cựu chiến binh tỉnh", "Liên đoàn Lao động tỉnh", "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh",
    "Hội Chữ thập đỏ tỉnh", "Liên minh Hợp tác xã tỉnh",
)  # fmt: skip
_PARTY_AGENCIES_REGIONAL = ("Tòa án nhân dân khu vực {n}", "Viện Kiểm sát nhân dân khu vực {n}")
_DEPARTMENTS = (
    "Văn phòng Ủy ban nhân dân tỉnh", "Sở Tài chính", "Sở Nội vụ", "Sở Tư pháp", "Sở Xây dựng", "Sở Công Thương",
    "Sở Nông nghiệp và Môi trường", "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Khoa học và Công nghệ",
    "Sở Văn hóa, Thể thao và Du lịch", "Sở Dân tộc và Tôn giáo", "Sở Ngoại vụ", "Thanh tra tỉnh",
    "Ban Quản lý các khu công nghiệp tỉnh", "Đài Khí tượng thủy văn tỉnh", "Bệnh viện Đa khoa tỉnh",
    "Trường Đại học Mẫu (mô phỏng)", "Trường Cao đẳng Y tế tỉnh", "Trường Cao đẳng Kỹ thuật - Công nghệ tỉnh",
)  # fmt: skip
_PROVINCIAL_REGIONAL = (
    "Trường Trung học phổ thông {p}", "Trung tâm Y tế khu vực {p}", "Bệnh viện Đa khoa khu vực {p}",
    "Trường Phổ thông Dân tộc nội trú {p}", "Ban Quản lý dự án đầu tư xây dựng khu vực {p}",
    "Chi cục Thuế khu vực {n}", "Kho bạc Nhà nước khu vực {n}", "Công ty TNHH Một thành viên {b}",
    "Thi hành án dân sự khu vực {n}", "Ngân hàng Chính sách xã hội chi nhánh {p}",
)  # fmt: skip
_MILITARY = (
    "Cơ quan Bộ Chỉ huy Quân sự tỉnh", "Trường Quân sự tỉnh", "Tiểu đoàn Bộ binh {n}",
    "Ban Chỉ huy Phòng thủ khu vực {n}", "Đại đội Trinh sát {n}", "Kho Kỹ thuật {n}", "Trung đoàn Bộ binh {n}",
)  # fmt: skip
_MILITARY_CELLS = ("Ban Tham mưu", "Ban Chính trị", "Ban Hậu cần - Kỹ thuật", "Đại đội {n}", "Trung đội {n}")
_POLICE_OFFICES = (
    "Phòng An ninh chính trị nội bộ", "Phòng An ninh kinh tế", "Phòng Cảnh sát hình sự", "Phòng Cảnh sát giao thông",
    "Phòng Cảnh sát cơ động", "Phòng Cảnh sát phòng cháy, chữa cháy và cứu nạn, cứu hộ", "Phòng Tham mưu",
    "Phòng Tổ chức cán bộ", "Phòng Hậu cần", "Phòng Công tác đảng và công tác chính trị",
    "Phòng Cảnh sát điều tra tội phạm về ma túy", "Phòng Quản lý hành chính về trật tự xã hội",
    "Phòng An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao", "Phòng Cảnh sát kinh tế",
    "Phòng Cảnh sát quản lý trại giam", "Trại tạm giam Công an tỉnh", "Phòng Kỹ thuật hình sự",
    "Phòng Cảnh sát môi trường", "Phòng Thanh tra", "Phòng Pháp chế", "Phòng Hồ sơ", "Phòng Xuất nhập cảnh",
    "Phòng Cảnh sát thi hành án hình sự", "Cơ quan Cảnh sát điều tra", "Cơ quan An ninh điều tra",
    "Phòng Cảnh sát đường thủy", "Phòng Viễn thông, tin học và cơ yếu",
)  # fmt: skip
_POLICE_CELLS = ("Đội {n}", "Tổ công tác {n}", "Đội Tham mưu tổng hợp", "Đội Nghiệp vụ {n}")
_BORDER = (
    "Cơ quan Bộ Chỉ huy Bộ đội Biên phòng tỉnh", "Đồn Biên phòng {p}", "Đồn Biên phòng Cửa khẩu {p}",
    "Hải đội Biên phòng {n}", "Tiểu đoàn Huấn luyện - Cơ động {n}",
)  # fmt: skip
_BORDER_CELLS = ("Đội Vũ trang", "Đội Trinh sát", "Đội Vận động quần chúng", "Tổ công tác {n}")


@dataclass(frozen=True)
class _Branch:
    """A four-level branch: its name, how many bases at full scale, what they are called, what their cells are."""

    name: str
    bases: int
    base_names: Callable[[_Builder, int], str]
    cell_names: tuple[str, ...]
    armed_forces: bool = False
    with_cells: float = 0.6


@dataclass
class _Builder:
    rng: random.Random
    units: list[Unit] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=lambda: {"X": 0, "CS": 0, "CB": 0})
    used_places: set[str] = field(default_factory=set)

    def code(self, prefix: str) -> str:
        self.counters[prefix] += 1
        width = {"X": 3, "CS": 4, "CB": 5}[prefix]
        return f"{prefix}{self.counters[prefix]:0{width}d}"

    def add(
        self, prefix: str, name: str, parent: uuid.UUID | None, level: str, kind: UnitKind, armed: bool
    ) -> uuid.UUID:
        unit_id = new_id()
        code = SAMPLE_ROOT_CODE if prefix == SAMPLE_ROOT_CODE else self.code(prefix)
        version = Version(SAMPLE_VALID_FROM, code, name, parent, level, kind)
        self.units.append(Unit(unit_id, armed, SAMPLE_VALID_FROM, None, (version,)))
        return unit_id

    def place(self, avoid: set[str] | None = None) -> str:
        """A two-syllable place name not yet in `avoid` (the province's commune names when not given)."""
        taken = self.used_places if avoid is None else avoid
        for _ in range(1000):
            name = f"{self.rng.choice(_FIRST)} {self.rng.choice(_SECOND)}"
            first, second = name.split()
            if first != second and name not in taken:
                taken.add(name)
                return name
        raise RuntimeError("hết tên địa danh")  # unreachable at the sizes generated here

    def fill(self, template: str, n: int) -> str:
        """A template with `{n}` a number, `{p}` a place name and `{b}` a business name (a trade name or a place)."""
        business = self.rng.choice(_BUSINESS) if self.rng.random() < 0.5 else self.place(set())
        return template.format(n=n, p=self.place(set()), b=business)

    def cells(self, base: uuid.UUID, templates: tuple[str, ...], count: int, armed: bool) -> None:
        seen: set[str] = set()
        offset = self.rng.randrange(len(templates))
        for i in range(count):
            name = templates[(offset + i) % len(templates)].format(n=i + 1)
            if name in seen:
                name = f"{name} {i + 1}"
            seen.add(name)
            self.add("CB", f"Chi bộ {name}", base, LEVEL_CELL, UnitKind.CELL, armed)

    def base(self, parent: uuid.UUID, organisation: str, cells: int, templates: tuple[str, ...], armed: bool) -> None:
        # A base organisation with cells of its own is a đảng bộ cơ sở; one without is a chi bộ cơ sở.
        prefix = "Đảng bộ" if cells else "Chi bộ"
        base = self.add("CS", f"{prefix} {organisation}", parent, LEVEL_BASE, UnitKind.BASE_ORGANISATION, armed)
        self.cells(base, templates, cells, armed)


def _party_agency(b: _Builder, i: int) -> str:
    if i < len(_PARTY_AGENCIES):
        return _PARTY_AGENCIES[i]
    k = i - len(_PARTY_AGENCIES)
    return _PARTY_AGENCIES_REGIONAL[k % 2].format(n=k // 2 + 1)


def _provincial(b: _Builder, i: int) -> str:
    if i < len(_DEPARTMENTS):
        return _DEPARTMENTS[i]
    k = i - len(_DEPARTMENTS)
    return b.fill(_PROVINCIAL_REGIONAL[k % len(_PROVINCIAL_REGIONAL)], k // len(_PROVINCIAL_REGIONAL) + 1)


def _military(b: _Builder, i: int) -> str:
    if i < 2:
        return _MILITARY[i]
    k = i - 2
    return _MILITARY[2 + k % (len(_MILITARY) - 2)].format(n=k // (len(_MILITARY) - 2) + 1)


def _police(b: _Builder, i: int) -> str:
    # Commune and ward police first: since 2025 their Party organisations belong to the provincial police committee.
    if i < len(b.communes):
        return f"Công an {b.communes[i]}"
    k = i - len(b.communes)
    if k < len(_POLICE_OFFICES):
        return _POLICE_OFFICES[k]
    return f"Đội Cảnh sát cơ động số {k - len(_POLICE_OFFICES) + 1}"


def _border(b: _Builder, i: int) -> str:
    if i == 0:
        return _BORDER[0]
    return b.fill(_BORDER[1 + (i - 1) % (len(_BORDER) - 1)], (i - 1) // (len(_BORDER) - 1) + 1)


_BRANCHES = (
    _Branch("Đảng ủy các cơ quan Đảng tỉnh", 45, _party_agency, _CELL_UNITS, with_cells=0.5),
    _Branch("Đảng ủy Ủy ban nhân dân tỉnh", 255, _provincial, _CELL_UNITS),
    _Branch("Đảng ủy Quân sự tỉnh", 60, _military, _MILITARY_CELLS, armed_forces=True, with_cells=0.7),
    _Branch("Đảng ủy Công an tỉnh", 125, _police, _POLICE_CELLS, armed_forces=True),
    _Branch("Đảng ủy Bộ đội Biên phòng tỉnh", 30, _border, _BORDER_CELLS, armed_forces=True, with_cells=0.7),
)
_COMMUNES = 98
_WARD_SHARE = 0.25


def _commune_bases(b: _Builder, place: str, unit: str, count: int) -> Iterator[str]:
    fixed = (
        f"Cơ quan Đảng - Mặt trận - đoàn thể {unit}",
        f"Cơ quan chính quyền {unit}",
        f"Trạm Y tế {unit}",
        f"Trường Mầm non {place}",
        f"Trường Tiểu học {place}",
        f"Trường Trung học cơ sở {place}",
    )
    made = 0
    for name in fixed[:count]:
        made += 1
        yield name
    extra = (
        "Trường Mầm non {p}",
        "Trường Tiểu học {p}",
        "Trường Trung học cơ sở {p}",
        "Trường Trung học phổ thông {p}",
        "Hợp tác xã Nông nghiệp {p}",
        "Quỹ Tín dụng nhân dân {p}",
        "Công ty Cổ phần {b}",
        "Công ty TNHH {b}",
        "Ban Quản lý chợ {p}",
    )
    seen: set[str] = set()
    while made < count:
        name = b.fill(b.rng.choice(extra), 0)
        if name in seen:
            continue
        seen.add(name)
        made += 1
        yield name


def sample_units(seed: int = DEFAULT_SEED, scale: float = 1.0) -> list[Unit]:
    """The synthetic province, parents before children; the same seed and scale give the same tree (ids aside).

    `scale` shrinks the number of communes and of bases in each four-level branch (0.02 gives ~150 units); every
    kind of branch is kept at any scale.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    b = _Builder(random.Random(seed))
    root = b.add(SAMPLE_ROOT_CODE, SAMPLE_ROOT_NAME, None, LEVEL_PROVINCE, UnitKind.COMMITTEE, False)

    communes = max(1, round(_COMMUNES * scale))
    places = [b.place() for _ in range(communes)]
    wards = set(b.rng.sample(range(communes), k=round(communes * _WARD_SHARE)))
    b.communes = [f"{'phường' if i in wards else 'xã'} {p}" for i, p in enumerate(places)]

    for branch in _BRANCHES:
        top = b.add("X", branch.name, root, LEVEL_UPPER_BASE, UnitKind.COMMITTEE, branch.armed_forces)
        names: set[str] = set()
        for i in range(max(1, round(branch.bases * scale))):
            name = branch.base_names(b, i)
            while name in names:  # regional names are drawn at random and may repeat
                name = branch.base_names(b, i)
            names.add(name)
            # The first base always has cells, so the branch keeps its four levels at any scale.
            cells = b.rng.randint(4, 10) if i == 0 or b.rng.random() < branch.with_cells else 0
            b.base(top, name, cells, branch.cell_names, branch.armed_forces)

    for place, unit in zip(places, b.communes, strict=True):
        commune = b.add("X", f"Đảng bộ {unit}", root, LEVEL_COMMUNE, UnitKind.COMMITTEE, False)
        is_ward = unit.startswith("phường")
        villages: set[str] = {place}
        for n in range(b.rng.randint(28, 50)):
            village = f"khu phố {n + 1}" if is_ward else f"thôn {b.place(villages)}"
            b.add("CB", f"Chi bộ {village}", commune, LEVEL_CELL, UnitKind.CELL, False)
        # Base organisations of a commune are chi bộ cơ sở without cells of their own: the branch has three levels.
        for organisation in _commune_bases(b, place, unit, b.rng.randint(10, 20)):
            b.base(commune, organisation, 0, _CELL_UNITS, False)
    return b.units


def write_sample_xlsx(path: str | Path, *, seed: int = DEFAULT_SEED, scale: float = 1.0) -> int:
    """Write the synthetic province as an import file (.xlsx, the format of `shared.tree_import`); returns its rows."""
    return write_units_xlsx(sample_units(seed, scale), path)


SMALL_SAMPLE_SINCE = date(2020, 1, 1)


def small_sample_units() -> list[Unit]:
    """A ten-unit tree with stable codes for tests: TU; H1, H2; H1B1, H1B2, H2B1, H2B2; H1B1C1, H1B1C2, H2B1C1."""
    rows = (
        ("TU", "Tỉnh ủy Mẫu", None, LEVEL_PROVINCE, UnitKind.COMMITTEE),
        ("H1", "Huyện ủy An Phú", "TU", "Cấp huyện", UnitKind.COMMITTEE),
        ("H2", "Huyện ủy Bình Sơn", "TU", "Cấp huyện", UnitKind.COMMITTEE),
        ("H1B1", "Đảng bộ xã An Hòa", "H1", LEVEL_BASE, UnitKind.BASE_ORGANISATION),
        ("H1B2", "Chi bộ Trường Trung học phổ thông An Phú", "H1", LEVEL_BASE, UnitKind.BASE_ORGANISATION),
        ("H2B1", "Đảng bộ xã Bình Minh", "H2", LEVEL_BASE, UnitKind.BASE_ORGANISATION),
        ("H2B2", "Chi bộ Công ty Cổ phần Bình Sơn", "H2", LEVEL_BASE, UnitKind.BASE_ORGANISATION),
        ("H1B1C1", "Chi bộ thôn Đông Hòa", "H1B1", LEVEL_CELL, UnitKind.CELL),
        ("H1B1C2", "Chi bộ thôn Tây Hòa", "H1B1", LEVEL_CELL, UnitKind.CELL),
        ("H2B1C1", "Chi bộ thôn Bắc Minh", "H2B1", LEVEL_CELL, UnitKind.CELL),
    )
    ids: dict[str, uuid.UUID] = {}
    units = []
    for code, name, parent, level, kind in rows:
        ids[code] = new_id()
        version = Version(SMALL_SAMPLE_SINCE, code, name, ids[parent] if parent else None, level, kind)
        units.append(Unit(ids[code], False, SMALL_SAMPLE_SINCE, None, (version,)))
    return units

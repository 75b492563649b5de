"""The plan's units as the demo knows them: names, variant spellings and how well each performs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class UnitProfile(BaseModel):
    """One unit of the department and the rates its simulated dossiers follow."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    handles_dossiers: bool = True
    late_rate: float = 0.0  # share of dossiers finished after the due time
    digitised_rate: float = 0.0
    reuse_rate: float = 0.0  # share of digitised dossiers whose data is reused
    e_result_rate: float = 0.0
    paid_online_rate: float = 0.0  # share of fee dossiers paid online
    unsynced_rate: float = 0.0  # share of dossiers never synced to the national portal


UNIT_PROFILES: tuple[UnitProfile, ...] = (
    UnitProfile(code="VP", name="Văn phòng Sở", aliases=("Văn phòng", "VP Sở"), handles_dossiers=False),
    UnitProfile(
        code="QLKH",
        name="Phòng Quản lý Khoa học",
        aliases=("P. Quản lý khoa học", "Phòng QL Khoa học"),
        late_rate=0.004,
        digitised_rate=0.97,
        reuse_rate=0.56,
        e_result_rate=0.99,
        paid_online_rate=0.97,
        unsynced_rate=0.005,
    ),
    UnitProfile(
        code="QLCN",
        name="Phòng Quản lý công nghệ và Đổi mới sáng tạo",
        aliases=("Phòng Quản lý Công nghệ & ĐMST", "P. QLCN và ĐMST"),
        late_rate=0.012,
        digitised_rate=0.93,
        reuse_rate=0.45,
        e_result_rate=0.95,
        paid_online_rate=0.92,
        unsynced_rate=0.02,
    ),
    UnitProfile(
        code="TDC",
        name="Chi cục Tiêu chuẩn Đo lường Chất lượng",
        aliases=("Chi cục TĐC", "Chi cục Tiêu chuẩn - Đo lường - Chất lượng"),
        late_rate=0.02,
        digitised_rate=0.99,
        reuse_rate=0.62,
        e_result_rate=1.0,
        paid_online_rate=0.96,
        unsynced_rate=0.01,
    ),
    UnitProfile(
        code="BCVT",
        name="Phòng Bưu chính Viễn thông",
        aliases=("Phòng Bưu chính, Viễn thông", "P. BCVT"),
        late_rate=0.03,
        digitised_rate=0.88,
        reuse_rate=0.38,
        e_result_rate=0.9,
        paid_online_rate=0.9,
        unsynced_rate=0.03,
    ),
    UnitProfile(
        code="CDS",
        name="Phòng Chuyển đổi số",
        aliases=("P. Chuyển đổi số", "Phòng CĐS"),
        late_rate=0.008,
        digitised_rate=1.0,
        reuse_rate=0.7,
        e_result_rate=0.99,
        paid_online_rate=0.99,
        unsynced_rate=0.0,
    ),
    UnitProfile(
        code="BPMC",
        name="Bộ phận Tiếp nhận và trả kết quả",
        aliases=("Bộ phận Một cửa", "BP TN&TKQ"),
        handles_dossiers=False,
    ),
)

UNITS_BY_CODE: dict[str, UnitProfile] = {unit.code: unit for unit in UNIT_PROFILES}
DOSSIER_UNITS: tuple[str, ...] = tuple(unit.code for unit in UNIT_PROFILES if unit.handles_dossiers)

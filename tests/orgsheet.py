"""A realistic street office organisation sheet for tests, built with openpyxl (the real file format)."""

from __future__ import annotations

import io

from openpyxl import Workbook

REGIONS: list[list[object]] = [
    ["编码", "名称", "层级", "上级编码"],
    [320100, "南京市", "市", None],  # Excel users type codes as numbers: read back as 320100.0
    [320106, "鼓楼区", "区", 320100],
    ["320106011", "华侨路街道", "街道", "320106"],
    ["320106011001", "五台山社区", "社区", "320106011"],
    ["320106011002", "龙仓巷社区", "社区", "320106011"],
    ["320106011003", "随家仓社区", "社区", "320106011"],
]
GRIDS: list[list[object]] = [["编码", "名称", "所属社区编码", "户数", "类型"]]
for community, short in (("320106011001", "五台山"), ("320106011002", "龙仓巷"), ("320106011003", "随家仓")):
    for n in (1, 2):
        GRIDS.append([f"{community}-0{n}", f"{short}第{n}网格", community, 280 + n * 17, "综合"])
GRIDS.append(["320106011001-Z1", "南京外国语学校专属网格", "320106011001", None, "专属"])
PEOPLE: list[list[object]] = [
    ["姓名", "角色", "范围编码", "微信号", "手机号", "企业微信账号"],
    ["王芳", "网格员", "320106011001-01", "wangfang_88", "138-0000-1111", None],
    ["李强", "网格员", "320106011001-02", None, "13800002222", None],
    ["周敏", "兼职网格员", "320106011001-02", None, None, None],
    ["陈刚", "网格长", "320106011001-01", "chengang", None, None],
    ["陈刚", "网格长", "320106011001-02", "chengang", None, None],  # one person, two grids
    ["赵丽", "网格员", "320106011002-01", None, "+86 139 0000 3333", None],
    ["钱进", "网格员", "320106011002-02", "qianjin", None, "QianJin"],
    ["孙红", "网格员", "320106011003-01", None, "13900004444", None],
    ["吴涛", "网格员", "320106011003-02", None, "13900005555", None],
    ["郑老师", "网格员", "320106011001-Z1", None, None, None],
    ["孙主任", "社区管理员", "320106011001", "sun_zr", None, None],
    ["钱主任", "社区管理员", "320106011002", None, "13700006666", None],
    ["赵科长", "街道管理员", "320106011", "zhaokz", None, None],
    ["鼓楼区网格办", "区管理员", "320106", None, "13700007777", None],
]


def workbook(
    regions: list[list[object]] = REGIONS,
    grids: list[list[object]] = GRIDS,
    people: list[list[object]] = PEOPLE,
) -> bytes:
    """The three sheets as .xlsx bytes."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, rows in (("区域", regions), ("网格", grids), ("人员", people)):
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

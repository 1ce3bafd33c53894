"""Issue 14, session 12: readings of danger cues found on the retired blind7 set, each both ways.

Every probe is our own wording, never a message of an evaluation set. Each class lists messages whose cue must not
be live and neighbours whose cue must stay live (a rule too narrow fails the first list, one too broad the second).
"""

from __future__ import annotations

import pytest

from gridbot.nlp.normalize import normalize
from gridbot.nlp.urgency import is_news
from tests.unit.nlp.live_cues import assert_both_ways

CUE_CLASSES = [
    (
        "a cue spanning clauses carries its past inside it",
        ["社区啥时候发沙袋 我们家一楼 前年进水了", "我家地下室 去年夏天 进过一回水"],
        ["我家一楼 现在进水了 快来", "暴雨 我家一楼 水往里灌"],
    ),
    (
        "glue or paint poured in is no flood",
        ["有人往我家门锁里灌了胶水 打不开了", "楼道里谁往我家门缝灌油漆"],
        ["下水道反水 往我家里灌 地上全是水", "雨水往我家屋里灌 淹到脚踝了"],
    ),
    (
        "a person lying still on the ground",
        [],
        ["小区门口有个大爷躺地上不动", "楼道有人躺在地上一动不动", "路边一个老人倒地不起"],
    ),
    (
        "told over, then explained",
        ["火灭了 就是一个插线板烧起来 烧黑了一块", "火已经灭了 其实是锅里的油着起来了"],
        ["火灭了 但是三楼又着起来了", "火灭了 没过一会儿楼上又着火了"],
    ),
    (
        "a post or a video on a platform is news",
        ["抖音上那个老人被困电梯的视频 你们看了没", "网上有个小孩从阳台掉下去的视频 太吓人了 大家看好孩子"],
        ["我刚拍了视频 3栋楼道着火了", "抖音刷完一抬头 我家楼下着火了"],
    ),
    (
        "a feeling so strong it sparks or smokes",
        ["今天手气好得冒火星子 连赢五把", "等快递等得心里急得冒火"],
        ["电线烧得冒烟了 快断电", "插座在冒火星子 一股焦味"],
    ),
    (
        "laughter makes a person cue a joke",
        ["被年终总结压得喘不过气 快窒息了 哈哈哈", "儿子被一堆作业困住了 出不来了 笑死"],
        ["电梯困人了 里面有小孩在哭", "有人被压在倒塌的棚子下面 快来人"],
    ),
    (
        "stuck at work or a vehicle stuck on a road",
        ["今天又加班 被困在办公室了 回不去", "送货的车困在半路 雪太厚过不去 明天再送"],
        ["车被水困住了 里面还有人", "电梯困在半道 里面有人"],
    ),
]


@pytest.mark.parametrize(("name", "quiet", "loud"), CUE_CLASSES, ids=[c[0] for c in CUE_CLASSES])
def test_cue_reading(name: str, quiet: list[str], loud: list[str]) -> None:
    assert_both_ways(name, quiet, loud)


def test_a_video_asked_about_is_news() -> None:
    assert is_news(normalize("微博上那条视频看了没 好吓人"))
    assert not is_news(normalize("我家楼下着火了 我在拍视频"))

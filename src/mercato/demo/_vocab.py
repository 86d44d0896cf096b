"""Hand-written vocabularies of the demo shop: categories, brands, colours and features.

Every word comes as an ``(english, chinese)`` pair so titles, reviews and queries can be written in
either language from the same item. The numbers (base prices, repeat gaps) are plausible shop
values, not measurements; the simulation draws everything else from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

Word = tuple[str, str]
"""A word as ``(english, chinese)``."""

_Feature = tuple[str, tuple[Word, ...]]
"""A category's second attribute: its name and its possible values."""


@dataclass(frozen=True)
class CategorySpec:
    """One leaf category of the demo catalogue.

    Attributes:
        path: Category path, levels joined by ``' > '``.
        noun: What an item of the category is called, in English and Chinese.
        shape: Shape drawn on the product image (see ``_media``).
        base_price: Typical list price of the category.
        repeat_gap_days: Mean days until a consumable is bought again; 0 for durable goods.
        feature: Name of the category's second attribute (the first is always ``'colour'``).
        values: Possible values of that attribute.
    """

    path: str
    noun: Word
    shape: str
    base_price: float
    repeat_gap_days: float
    feature: str
    values: tuple[Word, ...]

    @property
    def top_level(self) -> str:
        return self.path.split(" > ")[0]

    @property
    def consumable(self) -> bool:
        return self.repeat_gap_days > 0


def _category(
    path: str,
    noun: Word,
    shape: str,
    base_price: float,
    repeat_gap_days: float,
    feature: _Feature,
) -> CategorySpec:
    name, values = feature
    return CategorySpec(path, noun, shape, base_price, repeat_gap_days, name, values)


_FABRIC: _Feature = (
    "material",
    (
        ("cotton", "棉质"),
        ("linen", "亚麻"),
        ("wool", "羊毛"),
        ("silk", "丝绸"),
        ("polyester", "涤纶"),
    ),
)
_LEATHER: _Feature = (
    "material",
    (
        ("leather", "真皮"),
        ("canvas", "帆布"),
        ("suede", "麂皮"),
        ("mesh", "网面"),
    ),
)
_HARD: _Feature = (
    "material",
    (
        ("steel", "不锈钢"),
        ("aluminium", "铝制"),
        ("plastic", "塑料"),
        ("wooden", "木质"),
    ),
)
_KITCHEN: _Feature = (
    "material",
    (
        ("ceramic", "陶瓷"),
        ("glass", "玻璃"),
        ("cast iron", "铸铁"),
        ("enamel", "搪瓷"),
    ),
)
_SCENT: _Feature = (
    "scent",
    (
        ("lavender", "薰衣草"),
        ("citrus", "柑橘"),
        ("rose", "玫瑰"),
        ("unscented", "无香"),
    ),
)
_FLAVOUR: _Feature = (
    "flavour",
    (
        ("dark roast", "深烘"),
        ("vanilla", "香草"),
        ("hazelnut", "榛子"),
        ("mild", "温和"),
    ),
)
_PET: _Feature = (
    "flavour",
    (
        ("chicken", "鸡肉"),
        ("salmon", "三文鱼"),
        ("beef", "牛肉"),
    ),
)
_SIZE: _Feature = (
    "size",
    (
        ("small", "小号"),
        ("medium", "中号"),
        ("large", "大号"),
    ),
)

CATEGORIES: tuple[CategorySpec, ...] = (
    _category("Women > Shoes > Sneakers", ("sneakers", "运动鞋"), "ellipse", 79.0, 0, _LEATHER),
    _category("Women > Clothing > Dresses", ("dress", "连衣裙"), "triangle", 59.0, 0, _FABRIC),
    _category("Women > Bags > Handbags", ("handbag", "手提包"), "square", 120.0, 0, _LEATHER),
    _category("Men > Shoes > Boots", ("boots", "靴子"), "ellipse", 110.0, 0, _LEATHER),
    _category("Men > Clothing > Shirts", ("shirt", "衬衫"), "square", 39.0, 0, _FABRIC),
    _category("Men > Clothing > Jackets", ("jacket", "夹克"), "triangle", 99.0, 0, _FABRIC),
    _category("Men > Accessories > Watches", ("watch", "手表"), "circle", 180.0, 0, _HARD),
    _category("Home > Kitchen > Mugs", ("mug", "马克杯"), "circle", 12.0, 0, _KITCHEN),
    _category("Home > Kitchen > Pans", ("frying pan", "煎锅"), "circle", 45.0, 0, _KITCHEN),
    _category("Home > Bedding > Pillows", ("pillow", "枕头"), "square", 29.0, 0, _FABRIC),
    _category("Home > Decor > Lamps", ("lamp", "台灯"), "triangle", 49.0, 0, _HARD),
    _category("Electronics > Audio > Headphones", ("headphones", "耳机"), "circle", 89.0, 0, _HARD),
    _category(
        "Electronics > Phones > Phone Cases", ("phone case", "手机壳"), "square", 15.0, 0, _HARD
    ),
    _category(
        "Electronics > Computers > Keyboards", ("keyboard", "键盘"), "square", 65.0, 0, _HARD
    ),
    _category("Beauty > Skincare > Face Cream", ("face cream", "面霜"), "circle", 24.0, 30, _SCENT),
    _category("Beauty > Hair > Shampoo", ("shampoo", "洗发水"), "ellipse", 9.0, 21, _SCENT),
    _category(
        "Grocery > Coffee > Coffee Beans", ("coffee beans", "咖啡豆"), "ellipse", 14.0, 14, _FLAVOUR
    ),
    _category("Grocery > Tea > Green Tea", ("green tea", "绿茶"), "triangle", 8.0, 18, _FLAVOUR),
    _category("Grocery > Snacks > Chocolate", ("chocolate", "巧克力"), "square", 4.0, 7, _FLAVOUR),
    _category("Sports > Fitness > Yoga Mats", ("yoga mat", "瑜伽垫"), "square", 35.0, 0, _SIZE),
    _category("Sports > Outdoor > Backpacks", ("backpack", "背包"), "square", 70.0, 0, _SIZE),
    _category("Toys > Games > Puzzles", ("puzzle", "拼图"), "diamond", 19.0, 0, _SIZE),
    _category("Pets > Food > Dog Food", ("dog food", "狗粮"), "ellipse", 32.0, 20, _PET),
    _category("Baby > Care > Diapers", ("diapers", "纸尿裤"), "diamond", 27.0, 10, _SIZE),
)

TOP_LEVELS: tuple[str, ...] = tuple(dict.fromkeys(spec.top_level for spec in CATEGORIES))

# Invented brand names, a few per top-level category so brand and category are correlated the
# way they are in real shops.
BRANDS: dict[str, tuple[str, ...]] = {
    "Women": ("Aurelle", "Mirabel", "Sola"),
    "Men": ("Hartwell", "Norcross", "Vantor"),
    "Home": ("Hearthly", "Linden & Co", "Casavio"),
    "Electronics": ("Voltra", "Pixona", "Quorra"),
    "Beauty": ("Lumea", "Verdane"),
    "Grocery": ("Greenmill", "Oakroast", "Teavale"),
    "Sports": ("Stridex", "Peakline"),
    "Toys": ("Wonderbox", "Tinkerly"),
    "Pets": ("Pawsome", "Barkley"),
    "Baby": ("Littlenest", "Snugglo"),
}

# Brands in one flat list, grouped by top level in ``TOP_LEVELS`` order; items store an index.
BRAND_NAMES: tuple[str, ...] = tuple(name for top in TOP_LEVELS for name in BRANDS[top])

COLOURS: tuple[Word, ...] = (
    ("red", "红色"),
    ("blue", "蓝色"),
    ("green", "绿色"),
    ("black", "黑色"),
    ("white", "白色"),
    ("grey", "灰色"),
    ("yellow", "黄色"),
    ("pink", "粉色"),
    ("purple", "紫色"),
    ("orange", "橙色"),
    ("brown", "棕色"),
    ("navy", "藏青色"),
    ("beige", "米色"),
)

COLOUR_RGB: dict[str, tuple[int, int, int]] = {
    "red": (200, 40, 40),
    "blue": (40, 90, 200),
    "green": (40, 150, 70),
    "black": (25, 25, 25),
    "white": (245, 245, 240),
    "grey": (128, 128, 128),
    "yellow": (235, 200, 40),
    "pink": (235, 130, 170),
    "purple": (120, 60, 160),
    "orange": (240, 130, 30),
    "brown": (120, 75, 40),
    "navy": (20, 30, 90),
    "beige": (220, 200, 160),
}

STYLES: tuple[Word, ...] = (
    ("classic", "经典"),
    ("modern", "时尚"),
    ("compact", "小巧"),
    ("premium", "高端"),
    ("everyday", "日常"),
    ("lightweight", "轻便"),
)

SELLING_POINTS: tuple[Word, ...] = (
    ("Made to last and easy to care for.", "经久耐用，易于打理。"),
    ("A favourite for daily use.", "日常使用的好选择。"),
    ("Ships in recyclable packaging.", "采用可回收包装发货。"),
    ("Designed with comfort in mind.", "设计注重舒适体验。"),
    ("Great value for the price.", "性价比很高。"),
)

REGIONS: tuple[str, ...] = ("north", "south", "east", "west", "central")

# Review templates per star rating (index 0 is one star). Placeholders: {noun}, {colour},
# {brand}. Several variants per rating so text models see more than one phrasing; each reads
# right with a singular or a plural noun ("the boots", "the mug").
REVIEWS_EN: tuple[tuple[str, ...], ...] = (
    (
        "Terrible {noun}, returned the next day.",
        "Do not buy the {brand} {noun}, a waste of money.",
        "The {colour} {noun} broke within a week. Very poor quality.",
    ),
    (
        "Disappointed with the {noun}; the quality is below what I expected.",
        "Cheap-looking {noun}, and the {colour} is not like the photo.",
        "Not happy with the {brand} {noun}. Would not buy again.",
    ),
    (
        "Okay {noun}, nothing special for the price.",
        "Average {noun}. The {colour} is fine but the build feels a bit flimsy.",
        "{brand} {noun} that does the job, neither good nor bad.",
    ),
    (
        "Good {noun}, the {colour} looks nice. Would buy again.",
        "Solid {noun} from {brand}, happy with the purchase.",
        "Nice {colour} {noun}, good quality for the money.",
    ),
    (
        "Absolutely love the {colour} {noun}! Worth every penny.",
        "The best {noun} I have bought from {brand}. Highly recommended!",
        "Excellent {noun}, perfect quality and fast delivery.",
    ),
)

REVIEWS_ZH: tuple[tuple[str, ...], ...] = (
    (
        "很差的{noun}，第二天就退货了。",
        "不要买{brand}的这款{noun}，浪费钱。",
        "这个{colour}{noun}一周就坏了，质量太差。",
    ),
    (
        "对这款{noun}有点失望，质量不如预期。",
        "{noun}看起来很廉价，{colour}和图片不一样。",
        "对{brand}的{noun}不满意，不会再买。",
    ),
    (
        "{noun}一般般，这个价格没什么特别。",
        "普通的{noun}，{colour}还行，但做工有点单薄。",
        "能用，{brand}的{noun}不好也不坏。",
    ),
    (
        "{noun}不错，{colour}很好看，会回购。",
        "{brand}的{noun}质量可靠，很满意。",
        "{colour}{noun}很漂亮，物有所值。",
    ),
    (
        "非常喜欢这款{colour}{noun}！物超所值。",
        "这是我在{brand}买过最好的{noun}，强烈推荐！",
        "{noun}质量一流，发货也很快，五星好评。",
    ),
)

TOP_LEVELS_ZH: dict[str, str] = {
    "Women": "女士",
    "Men": "男士",
    "Home": "家居",
    "Electronics": "数码",
    "Beauty": "美妆",
    "Grocery": "食品",
    "Sports": "运动",
    "Toys": "玩具",
    "Pets": "宠物",
    "Baby": "母婴",
}

FEATURE_LABELS: dict[str, Word] = {
    "material": ("Material", "材质"),
    "scent": ("Scent", "香型"),
    "flavour": ("Flavour", "口味"),
    "size": ("Size", "尺寸"),
}

# Search phrasings, filled with words of the item the shopper goes on to click. Placeholders:
# {colour}, {feature}, {brand}, {noun}, {top}.
QUERIES_EN: tuple[str, ...] = (
    "{colour} {noun}",
    "{brand} {noun}",
    "{feature} {noun}",
    "{colour} {feature} {noun}",
    "{noun} {top}",
    "{brand} {colour} {noun}",
)
QUERIES_ZH: tuple[str, ...] = (
    "{colour}{noun}",
    "{brand} {noun}",
    "{feature}{noun}",
    "{colour}{feature}{noun}",
    "{top}{noun}",
    "{brand} {colour}{noun}",
)

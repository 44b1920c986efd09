"""National code tables the credentials carry as integers: sex, ethnicity, administrative divisions.

GB/T 2261.1 (sex), GB 3304 (ethnic groups), GB/T 2260 (administrative divisions). Each label is a
(zh, en) pair for display; the QR pass stores only the code.
"""

from __future__ import annotations

from credential.errors import InvalidApplicationError

Label = tuple[str, str]

# GB/T 2261.1-2003
SEX_LABELS: dict[int, Label] = {
    0: ("未知的性别", "Unknown"),
    1: ("男", "Male"),
    2: ("女", "Female"),
    9: ("未说明的性别", "Not stated"),
}

# GB 3304-1991, in the standard's order; 97 and 98 are the standard's two extra codes.
ETHNICITY_LABELS: dict[int, Label] = {
    1: ("汉族", "Han"),
    2: ("蒙古族", "Mongol"),
    3: ("回族", "Hui"),
    4: ("藏族", "Tibetan"),
    5: ("维吾尔族", "Uygur"),
    6: ("苗族", "Miao"),
    7: ("彝族", "Yi"),
    8: ("壮族", "Zhuang"),
    9: ("布依族", "Buyei"),
    10: ("朝鲜族", "Korean"),
    11: ("满族", "Manchu"),
    12: ("侗族", "Dong"),
    13: ("瑶族", "Yao"),
    14: ("白族", "Bai"),
    15: ("土家族", "Tujia"),
    16: ("哈尼族", "Hani"),
    17: ("哈萨克族", "Kazak"),
    18: ("傣族", "Dai"),
    19: ("黎族", "Li"),
    20: ("傈僳族", "Lisu"),
    21: ("佤族", "Va"),
    22: ("畲族", "She"),
    23: ("高山族", "Gaoshan"),
    24: ("拉祜族", "Lahu"),
    25: ("水族", "Sui"),
    26: ("东乡族", "Dongxiang"),
    27: ("纳西族", "Naxi"),
    28: ("景颇族", "Jingpo"),
    29: ("柯尔克孜族", "Kirgiz"),
    30: ("土族", "Tu"),
    31: ("达斡尔族", "Daur"),
    32: ("仫佬族", "Mulao"),
    33: ("羌族", "Qiang"),
    34: ("布朗族", "Blang"),
    35: ("撒拉族", "Salar"),
    36: ("毛南族", "Maonan"),
    37: ("仡佬族", "Gelao"),
    38: ("锡伯族", "Xibe"),
    39: ("阿昌族", "Achang"),
    40: ("普米族", "Pumi"),
    41: ("塔吉克族", "Tajik"),
    42: ("怒族", "Nu"),
    43: ("乌孜别克族", "Uzbek"),
    44: ("俄罗斯族", "Russian"),
    45: ("鄂温克族", "Ewenki"),
    46: ("德昂族", "Deang"),
    47: ("保安族", "Bonan"),
    48: ("裕固族", "Yugur"),
    49: ("京族", "Gin"),
    50: ("塔塔尔族", "Tatar"),
    51: ("独龙族", "Derung"),
    52: ("鄂伦春族", "Oroqen"),
    53: ("赫哲族", "Hezhen"),
    54: ("门巴族", "Monba"),
    55: ("珞巴族", "Lhoba"),
    56: ("基诺族", "Jino"),
    97: ("其他", "Other"),
    98: ("外国血统中国籍人士", "Foreign-born naturalised Chinese"),
}

# GB/T 2260 province-level divisions: the first two digits of every division code.
PROVINCE_LABELS: dict[str, Label] = {
    "11": ("北京市", "Beijing"),
    "12": ("天津市", "Tianjin"),
    "13": ("河北省", "Hebei"),
    "14": ("山西省", "Shanxi"),
    "15": ("内蒙古自治区", "Inner Mongolia"),
    "21": ("辽宁省", "Liaoning"),
    "22": ("吉林省", "Jilin"),
    "23": ("黑龙江省", "Heilongjiang"),
    "31": ("上海市", "Shanghai"),
    "32": ("江苏省", "Jiangsu"),
    "33": ("浙江省", "Zhejiang"),
    "34": ("安徽省", "Anhui"),
    "35": ("福建省", "Fujian"),
    "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"),
    "41": ("河南省", "Henan"),
    "42": ("湖北省", "Hubei"),
    "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"),
    "45": ("广西壮族自治区", "Guangxi"),
    "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"),
    "51": ("四川省", "Sichuan"),
    "52": ("贵州省", "Guizhou"),
    "53": ("云南省", "Yunnan"),
    "54": ("西藏自治区", "Xizang (Tibet)"),
    "61": ("陕西省", "Shaanxi"),
    "62": ("甘肃省", "Gansu"),
    "63": ("青海省", "Qinghai"),
    "64": ("宁夏回族自治区", "Ningxia"),
    "65": ("新疆维吾尔自治区", "Xinjiang"),
    "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"),
    "82": ("澳门特别行政区", "Macao"),
}

# The districts of the pilot city, for friendlier display; other codes fall back to their province.
DISTRICT_LABELS: dict[str, Label] = {
    "110101": ("北京市东城区", "Dongcheng District, Beijing"),
    "110102": ("北京市西城区", "Xicheng District, Beijing"),
    "110105": ("北京市朝阳区", "Chaoyang District, Beijing"),
    "110106": ("北京市丰台区", "Fengtai District, Beijing"),
    "110107": ("北京市石景山区", "Shijingshan District, Beijing"),
    "110108": ("北京市海淀区", "Haidian District, Beijing"),
    "110109": ("北京市门头沟区", "Mentougou District, Beijing"),
    "110111": ("北京市房山区", "Fangshan District, Beijing"),
    "110112": ("北京市通州区", "Tongzhou District, Beijing"),
    "110113": ("北京市顺义区", "Shunyi District, Beijing"),
    "110114": ("北京市昌平区", "Changping District, Beijing"),
    "110115": ("北京市大兴区", "Daxing District, Beijing"),
    "110116": ("北京市怀柔区", "Huairou District, Beijing"),
    "110117": ("北京市平谷区", "Pinggu District, Beijing"),
    "110118": ("北京市密云区", "Miyun District, Beijing"),
    "110119": ("北京市延庆区", "Yanqing District, Beijing"),
}

# Display labels of the holder data, keyed by Permit.to_dict() keys and SD-JWT VC claim names.
FIELD_LABELS: dict[str, Label] = {
    "type": ("证件类型", "Document type"),
    "name": ("姓名", "Name"),
    "name_pinyin": ("姓名拼音", "Name (pinyin)"),
    "sex": ("性别", "Sex"),
    "ethnicity": ("民族", "Ethnicity"),
    "birth_date": ("出生日期", "Date of birth"),
    "birthdate": ("出生日期", "Date of birth"),
    "citizen_id": ("公民身份号码", "Citizen ID number"),
    "address": ("居住地址", "Residence address"),
    "document_number": ("证件号码", "Document number"),
    "district": ("居住地", "Residence district"),
    "authority_code": ("签发机关代码", "Issuing authority code"),
    "authority_name": ("签发机关", "Issuing authority"),
    "valid_from": ("有效期起", "Valid from"),
    "valid_until": ("有效期至", "Valid until"),
    "portrait_sha256": ("照片摘要", "Portrait digest"),
    "picture": ("照片", "Portrait"),
}

UNKNOWN_LABEL: Label = ("未知代码", "Unknown code")


def sex_label(code: int) -> Label:
    return SEX_LABELS.get(code, UNKNOWN_LABEL)


def ethnicity_label(code: int) -> Label:
    return ETHNICITY_LABELS.get(code, UNKNOWN_LABEL)


def district_label(code: str) -> Label:
    """The district's name when known, else its province's, else the unknown label."""
    if code in DISTRICT_LABELS:
        return DISTRICT_LABELS[code]
    return PROVINCE_LABELS.get(code[:2], UNKNOWN_LABEL)


def validate_division(code: object, *, field: str = "authority_code") -> str:
    """Any GB/T 2260 division (province, prefecture or county level): six digits, known province."""
    if not isinstance(code, str) or len(code) != 6 or not (code.isascii() and code.isdigit()):
        raise InvalidApplicationError(field, "must be a six-digit GB/T 2260 code")
    if code[:2] not in PROVINCE_LABELS:
        raise InvalidApplicationError(field, f"unknown province prefix {code[:2]}")
    if code[2:4] == "00" and code[4:6] != "00":
        raise InvalidApplicationError(field, "a county-level code needs a prefecture part")
    return code


def validate_district(code: object, *, field: str = "district") -> str:
    """A county-level division (区/县/县级市): a division code whose last two digits are not 00.

    110105 (朝阳区) is a district; 110000 (北京市) and 110100 (市辖区) are not places one lives in.
    """
    validate_division(code, field=field)
    assert isinstance(code, str)
    if code.endswith("00"):
        raise InvalidApplicationError(field, "must be a county-level (district) code, not a province or city")
    return code

// Labels in Chinese and English.
export const LABELS = {
  zh: {
    title: "居住证核验", subtitle: "离线核验电子居住证、居住登记卡", scan: "扫码", stop: "停止", photo: "拍照 / 选图",
    ready: "将二维码对准摄像头，或选择照片", syncing: "正在更新吊销数据…", synced: "吊销数据已更新", offline: "离线：使用已缓存数据",
    noData: "尚无核验数据：请联网打开一次", updated: (age) => `吊销数据更新于 ${age}前`, again: "再扫一个",
    live: "动态码（持证人手机刚刚签名）", static: "静态码：请核对实体证件",
    results: { VALID: "有效", REVOKED: "已吊销", SUSPENDED: "已暂停", EXPIRED: "已过期", NOT_YET_VALID: "尚未生效",
      NOT_GENUINE: "非真实证件", STATUS_UNKNOWN: "状态未知", REPLAYED: "重放/截屏", MALFORMED: "无法识别", NO_HOLDER_PROOF: "缺少持证人证明",
      NOT_SET_UP: "尚未设置：请先联网同步一次", PORTRAIT_MISMATCH: "照片不符" },
    // What each result means and what to do, in plain words (verifier/report.py ADVICE, the README's table).
    advice: { REVOKED: "发证机关已吊销此证件：不要接受", SUSPENDED: "发证机关已暂停此证件：暂不接受，请持证人联系发证机关",
      EXPIRED: "证件已过有效期：不要接受，请持证人办理签注", NOT_YET_VALID: "证件尚未生效：不要接受；如不应如此，请检查本机时间",
      NOT_GENUINE: "不是可信机关签发的证件，或已被篡改：视为非真实证件", MALFORMED: "无法识别此二维码：请重新扫描",
      STATUS_UNKNOWN: "无法确认是否已吊销：请联网同步后再扫，在此之前不要视为有效",
      REPLAYED: "这个二维码是旧的截图或已过期：请持证人刷新后再扫", NO_HOLDER_PROOF: "这是静态码：请持证人在手机上出示动态码",
      NOT_SET_UP: "本机尚无核验数据：请联网同步一次后再扫",
      PORTRAIT_MISMATCH: "照片码与证件签名的照片不符：不要接受，也不要把那张照片当作持证人" },
    // The photo check (portraitcode.js): only a verified face is ever shown; the others say why not.
    portrait: { verified: "照片已核验：与证件签名一致，请与本人比对",
      mismatch: "照片未能与证件签名核对一致，因此不显示：不要把它当作持证人照片",
      absent: "未扫描到照片码：请持证人同时出示照片码，或核对实体证件" },
    portraitAlt: "持证人照片（已核验）",
    fields: { name: "姓名", name_pinyin: "拼音", sex: "性别", ethnicity: "民族", birth_date: "出生日期", citizen_id: "公民身份号码",
      address: "居住地址", document_number: "证件号码", type: "证件类型", authority_name: "签发机关", valid: "有效期限" },
    types: { residence_permit: "居住证", residence_registration: "居住登记卡" },
    views: { basic: "基本信息（不含个人身份信息）", full: "完整信息" }, view: "信息范围",
    sex: { 0: "未知", 1: "男", 2: "女", 9: "未说明" },
    pasteLabel: "或粘贴二维码文本（EP1:…）", pasteCheck: "核验文本",
    units: { s: "秒", min: "分钟", h: "小时", d: "天" }, noCamera: "无法打开摄像头", noQr: "照片中未找到二维码",
  },
  en: {
    title: "Permit check", subtitle: "Offline check of residence permits and registration cards", scan: "Scan",
    stop: "Stop", photo: "Photo / file", ready: "Point the camera at the QR code, or pick a photo",
    syncing: "Updating revocation data…", synced: "Revocation data updated", offline: "Offline: using cached data",
    noData: "No verification data yet: open this page online once", updated: (age) => `revocation data updated ${age} ago`,
    again: "Scan another", live: "live code (the holder's phone signed it just now)",
    static: "static code: check the physical card",
    results: { VALID: "VALID", REVOKED: "REVOKED", SUSPENDED: "SUSPENDED", EXPIRED: "EXPIRED", NOT_YET_VALID: "NOT YET VALID",
      NOT_GENUINE: "NOT GENUINE", STATUS_UNKNOWN: "STATUS UNKNOWN", REPLAYED: "REPLAYED", MALFORMED: "UNREADABLE",
      NO_HOLDER_PROOF: "NO HOLDER PROOF", NOT_SET_UP: "Not set up: sync once", PORTRAIT_MISMATCH: "PHOTO MISMATCH" },
    advice: { REVOKED: "The issuing authority has revoked this permit: do not accept it",
      SUSPENDED: "The issuing authority has suspended this permit: do not accept it for now; the holder must contact the issuing office",
      EXPIRED: "This permit has expired: do not accept it; the holder must renew it",
      NOT_YET_VALID: "This permit is not valid yet: do not accept it; if that looks wrong, check this device's clock",
      NOT_GENUINE: "Not issued by a trusted authority, or altered: treat it as not genuine",
      MALFORMED: "Not a readable permit code: scan it again",
      STATUS_UNKNOWN: "Cannot tell whether it was revoked: go online to sync, then scan again; do not treat it as valid meanwhile",
      REPLAYED: "This code is an old screenshot: ask the holder to refresh it",
      NO_HOLDER_PROOF: "This is a static code: ask the holder to show the live code on their phone",
      NOT_SET_UP: "This verifier has no verification data yet: sync once online, then scan again",
      PORTRAIT_MISMATCH: "The photo code is not the photo this permit signs: do not accept it, and do not take that photo for the holder's face" },
    portrait: { verified: "Photo verified: it is the one the permit signs; compare it with the person",
      mismatch: "The photo could not be matched to the permit's signature, so it is not shown: do not take it for the holder's face",
      absent: "No photo code scanned: ask the holder to show it with the pass, or check the physical card" },
    portraitAlt: "The holder's photo (verified)",
    fields: { name: "Name", name_pinyin: "Pinyin", sex: "Sex", ethnicity: "Ethnicity", birth_date: "Date of birth", citizen_id: "Citizen ID",
      address: "Address", document_number: "Document no.", type: "Type", authority_name: "Issued by", valid: "Valid" },
    types: { residence_permit: "Residence permit", residence_registration: "Residence registration card" },
    views: { basic: "basic view (no personal data)", full: "full view" }, view: "Shows",
    sex: { 0: "unknown", 1: "male", 2: "female", 9: "not stated" },
    pasteLabel: "Or paste the QR text (EP1:…)", pasteCheck: "Check text",
    units: { s: "s", min: "min", h: "h", d: "d" }, noCamera: "Cannot open the camera", noQr: "No QR code found in the photo",
  },
};

export function ageText(seconds, lang) {
  const u = LABELS[lang].units;
  const sep = lang === "zh" ? "" : " ";
  if (seconds < 60) return `${seconds}${sep}${u.s}`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}${sep}${u.min}`;
  if (seconds < 2 * 86400) return `${Math.floor(seconds / 3600)}${sep}${u.h}`;
  return `${Math.floor(seconds / 86400)}${sep}${u.d}`;
}

/** The headline a result shows: BAD_SIGNATURE and UNTRUSTED_ISSUER are both NOT GENUINE to a landlord. */
export const headline = (result) => (result === "BAD_SIGNATURE" || result === "UNTRUSTED_ISSUER" ? "NOT_GENUINE" : result);

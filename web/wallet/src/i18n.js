// The wallet's words, Chinese first, English on the switch. Errors and states say what to do next.
export const LABELS = {
  zh: {
    title: "电子居住证", subtitle: "您的居住证、居住登记卡，离线可用", lang: "English",
    add: "添加证件", pickupTitle: "领取证件", pasteLabel: "取证链接（扫描取证单二维码或粘贴链接）",
    pinLabel: "取证密码（6位数字，民警另行提供）", submit: "领取", picking: "正在领取…", cancel: "取消",
    picked: "已领取并保存在本机。", noCards: "本机还没有证件。请在窗口取得取证单和取证密码后领取。",
    show: "出示", remove: "删除", confirmRemove: "确认删除此证件？删除后需到窗口重新领取。", yesRemove: "确认删除",
    reveal: "显示", hide: "隐藏", check: "刷新", checking: "正在检查状态…", close: "关闭",
    viewBasic: "简版", viewFull: "完整版", log: "出示记录", noLog: "还没有出示过。", logOnly: "记录只保存在本机。",
    liveHint: "动态码：每30秒由本机重新签名，截图无效。请让对方用核验页面扫码。",
    refreshIn: (s) => `${s} 秒后刷新`, version: (v) => `二维码版本 ${v}`, portraitVersion: (v) => `照片码版本 ${v}`,
    portraitHint: "旁边为照片码：对方核验页面一次扫描两个码，核对照片与证件签名一致后才显示您的照片。",
    basicMissing: "本机暂无简版证件：显示完整版。", basicNote: "简版只显示核验所需的信息。", fullNote: "完整版显示全部证件信息。",
    types: { residence_permit: "居住证", residence_registration: "居住登记卡" },
    fields: { name: "姓名", citizen_id: "公民身份号码", address: "居住地址", document_number: "证件号码",
      authority_name: "签发机关", valid: "有效期限" },
    daysLeft: (d) => (d > 0 ? `剩余 ${d} 天` : "已到期"),
    states: {
      valid: "状态：有效。", revoked: "状态：已吊销。此证件已不能使用，请联系签发机关。",
      suspended: "状态：已暂停。暂停期间核验结果为“已暂停”，请联系签发机关了解原因。",
      expired: "状态：已过期。请到窗口办理新证。",
      expires_soon: (d) => `状态：有效，但将在 ${d} 天后到期。请及时到窗口办理签注或续期。`,
      unknown: "状态：尚未核对。联网后会自动核对。",
    },
    checked: (age) => `上次核对：${age}前`, neverChecked: "尚未联网核对",
    offlineNote: "离线：显示上次核对的状态。",
    units: { s: "秒", min: "分钟", h: "小时", d: "天" },
    errors: {
      wrong_pin: (n) => (n > 0 ? `取证密码错误，还可尝试 ${n} 次。` : "取证密码错误次数过多，此取证单已作废。请到窗口重新申请。"),
      pin_format: "请输入6位数字取证密码。",
      offer_gone: "此取证单已使用、已过期或已作废。如尚未领取，请到窗口重新申请。",
      offline: "无法连接网络。请联网后重试（领取需要联网，出示不需要）。",
      bad_link: "这不是有效的取证链接。", bad_offer: "取证单内容无法识别。", foreign_issuer: "取证链接不属于本签发机关。",
      denied: "签发机关拒绝签发（证件可能已暂停、吊销或过期）。", pending: "申请尚待审批，请稍后再试。",
      rate_limited: "尝试过于频繁，请稍后再试。", not_genuine: "收到的证件未通过真实性检查，未保存。",
      too_large: "二维码过大，无法可靠扫描。", no_pass: "此证件没有二维码。",
      issuer: "签发机关返回错误。", server: "签发机关的回答无法识别。", dpop_required: "签发机关要求更新的钱包版本。",
      unknown: "出现错误。",
    },
  },
  en: {
    title: "e-Permit wallet", subtitle: "Your residence permit and registration card, offline", lang: "中文",
    add: "Add a card", pickupTitle: "Pick up", pasteLabel: "Pickup link (scan the sheet's QR code or paste the link)",
    pinLabel: "Pickup PIN (6 digits, given to you separately)", submit: "Pick up", picking: "Picking up…", cancel: "Cancel",
    picked: "Picked up and kept on this phone.", noCards: "No card on this phone yet. Pick one up with the sheet and PIN from the service window.",
    show: "Show", remove: "Remove", confirmRemove: "Remove this card? You would have to pick it up again at the window.",
    yesRemove: "Yes, remove", reveal: "Show", hide: "Hide", check: "Refresh", checking: "Checking status…", close: "Close",
    viewBasic: "Basic", viewFull: "Full", log: "Codes shown", noLog: "Nothing shown yet.", logOnly: "This log stays on this phone.",
    liveHint: "Live code: re-signed by this phone every 30 s; a screenshot is worthless. Let them scan it with the verifier page.",
    refreshIn: (s) => `refreshes in ${s} s`, version: (v) => `QR version ${v}`, portraitVersion: (v) => `photo code version ${v}`,
    portraitHint: "Beside it, your photo code: the verifier page scans both codes at once and shows your photo only once it matches the permit's signature.",
    basicMissing: "No basic view on this phone yet: showing the full card.", basicNote: "The basic view shows only what a check needs.",
    fullNote: "The full card shows everything on the permit.",
    types: { residence_permit: "Residence permit", residence_registration: "Residence registration card" },
    fields: { name: "Name", citizen_id: "Citizen ID", address: "Address", document_number: "Document no.",
      authority_name: "Issued by", valid: "Valid" },
    daysLeft: (d) => (d > 0 ? `${d} days left` : "expired"),
    states: {
      valid: "Status: valid.", revoked: "Status: REVOKED. This card can no longer be used; contact the issuing authority.",
      suspended: "Status: SUSPENDED. Checks show it as suspended meanwhile; ask the issuing authority why.",
      expired: "Status: expired. Apply for a new card at the service window.",
      expires_soon: (d) => `Status: valid, but it expires in ${d} days. Have it endorsed or renewed at the window in time.`,
      unknown: "Status: not checked yet. It is checked when the phone is online.",
    },
    checked: (age) => `last checked ${age} ago`, neverChecked: "not checked online yet",
    offlineNote: "Offline: showing the status as last checked.",
    units: { s: "s", min: "min", h: "h", d: "d" },
    errors: {
      wrong_pin: (n) => (n > 0 ? `Wrong PIN: ${n} attempt${n === 1 ? "" : "s"} left.` : "Too many wrong PINs: this pickup sheet is now void. Apply again at the window."),
      pin_format: "Enter the 6-digit PIN.",
      offer_gone: "This pickup sheet was used, has expired or is void. If you have not picked up, apply again at the window.",
      offline: "No network. Try again when online (picking up needs the network, showing does not).",
      bad_link: "This is not a valid pickup link.", bad_offer: "The pickup offer cannot be read.",
      foreign_issuer: "The pickup link belongs to another issuer.",
      denied: "The issuer refused (the card may be suspended, revoked or expired).", pending: "The application awaits approval; try again later.",
      rate_limited: "Too many tries; wait a little.", not_genuine: "The card received failed the genuineness check and was not kept.",
      too_large: "The QR code is too large to scan reliably.", no_pass: "This card has no QR code.",
      issuer: "The issuer answered with an error.", server: "The issuer's answer cannot be read.",
      dpop_required: "The issuer needs a newer wallet.", unknown: "Something went wrong.",
    },
  },
};

export function ageText(seconds, lang) {
  const u = LABELS[lang].units;
  const sep = lang === "zh" ? " " : " ";
  if (seconds < 60) return `${seconds}${sep}${u.s}`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}${sep}${u.min}`;
  if (seconds < 2 * 86400) return `${Math.floor(seconds / 3600)}${sep}${u.h}`;
  return `${Math.floor(seconds / 86400)}${sep}${u.d}`;
}

/** The service's own description of a refusal (http.js WalletError "issuer"): the resident's Chinese first
 * (error_description_zh, wallet_api/error_words.py), then the English; "" when it gave none. */
export function serviceDescription(err) {
  const said = [err?.data?.descriptionZh, err?.detail].filter((t) => typeof t === "string" && t.trim());
  return said.length ? said.join(" — ") : "";
}

// The words of the residents' requests (requestsview.js, notices.js, the recovery code), Chinese first,
// English on the switch. Kept apart from i18n.js so that these screens change without touching the others'.
// A request's own answer (what became of it, the next step) comes from the service (issuer/requests/words.py).
import { serviceDescription } from "./i18n.js";

export const REQUEST_LABELS = {
  zh: {
    services: "办事", servicesTitle: "网上办事", close: "关闭",
    endorse: "签注", endorseHint: "每年签注一次。符合条件时立即办结，否则由辖区民警审核。",
    address: "地址变更", newAddress: "新居住地址", newDistrict: "新居住地（区）", sendAddress: "提交地址变更",
    deregister: "注销（迁出）", deregisterWarn: "注销后此证件立即吊销，不能撤回。确认注销？",
    yesDeregister: "确认注销", cancel: "取消", sending: "正在提交…",
    myRequests: "我的申请", noRequests: "还没有网上申请。", kinds: { endorse: "签注", address: "地址变更",
      lost: "手机丢失", deregister: "注销" },
    states: { submitted: "已提交", queued: "待审核", approved: "已批准", denied: "未批准", done: "已办结" },
    renewing: "正在领取新证件…", renewed: "新证件已领取，旧证件已作废。",
    recoveryTitle: "恢复码（只显示这一次）",
    recoveryNote: "请立即抄写在纸上并妥善保管。手机丢失时，凭公民身份号码和此恢复码在新手机上挂失并重新领证。"
      + "本钱包不会保存恢复码：手机丢失，恢复码也随之丢失。",
    recoveryDone: "我已抄写好",
    lostStart: "手机丢失？在本机挂失并领证", lostTitle: "手机丢失：挂失并在本机重新领证",
    lostHint: "旧手机上的证件将立即暂停。之后凭发送到登记手机号码的验证码，或经民警审核，在本机领取新证件。",
    citizenId: "公民身份号码", recoveryCode: "恢复码", lostSubmit: "挂失",
    sendCode: "发送短信验证码", codeLabel: "短信验证码（6位数字）", confirmCode: "确认验证码",
    waitOfficer: "也可以不用验证码：民警审核通过后，本钱包联网时会自动领取。",
    notices: "通知", noNotices: "暂无通知。",
    errors: {
      recovery_refused: "公民身份号码或恢复码不正确。未做任何更改。",
      throttled: (s) => `尝试次数过多，请${s ? `在 ${Math.ceil(s / 60)} 分钟后` : "稍后"}再试。未做任何更改。`,
      code_refused: "验证码不正确或已过期。", request_conflict: "此证件已有一项正在办理的申请，请等待其办结。",
      credential_not_current: "此证件已暂停、吊销或过期，不能用于网上办事。",
      invalid_presentation: "无法证明您持有此证件（本机证件与签发机关记录不符）。",
      not_endorsable: "此证件不能签注。", invalid_request: "填写的内容无效，请检查后重试。",
      request_not_found: "找不到此申请。", offline: "无法连接网络。网上办事需要联网。",
      no_sd_jwt: "此证件没有可用于网上办事的电子凭证，请到窗口重新领取。",
      no_district: "请选择新居住地。", no_address: "请填写新居住地址。", bad_citizen_id: "请填写18位公民身份号码。",
      login_refused: "您拒绝了登录，未提交任何申请，也未做任何更改。",
      login_untrusted: "无法确认登录请求来自签发机关，未发送任何证件信息。",
      login_no_anchors: "本钱包尚未配置签发机关登录证书的可信机构，暂不能登录网上办事。",
      login_no_match: "签发机关的登录请求不接受此证件。未发送任何证件信息。",
      login_root_unpinned: "本钱包尚未核对签发机关的根证书（请联网打开钱包一次），暂不能确认登录请求，未发送任何证件信息。",
      login_root_mismatch: "登录请求所依据的根证书不是本钱包领证时固定的签发机关根证书，已拒绝，未发送任何证件信息。",
      endorsement_not_due: (day) => `尚未到签注办理期${day ? `：${day} 起可在网上申请签注` : ""}。未提交任何申请。`,
      renewal_refused: "没有可续期的申请：签注或地址变更尚未批准。未领取任何证件。",
      renewal_mismatch: "续期应答不属于本次请求，未领取任何证件。",
      unknown: "出现错误，未做任何更改。",
    },
  },
  en: {
    services: "Services", servicesTitle: "Services online", close: "Close",
    endorse: "Endorse", endorseHint: "Once a year. Done at once when the rules allow, else an officer of your district decides.",
    address: "Change address", newAddress: "New address", newDistrict: "New district", sendAddress: "Send the address change",
    deregister: "Deregister (move away)", deregisterWarn: "Deregistering revokes this card at once; it cannot be undone. Deregister?",
    yesDeregister: "Yes, deregister", cancel: "Cancel", sending: "Sending…",
    myRequests: "My requests", noRequests: "No request made online yet.", kinds: { endorse: "Endorsement",
      address: "Address change", lost: "Lost phone", deregister: "Deregistration" },
    states: { submitted: "submitted", queued: "waiting for an officer", approved: "approved", denied: "denied", done: "done" },
    renewing: "Picking up the new card…", renewed: "New card picked up; the old one is void.",
    recoveryTitle: "Recovery code (shown this once only)",
    recoveryNote: "Write it down on paper now and keep it safe. If you lose this phone, your citizen ID and this code "
      + "suspend the lost phone's cards and get them onto a new phone. This wallet does not keep the code: a lost phone loses it.",
    recoveryDone: "I have written it down",
    lostStart: "Lost your phone? Report it and pick up here", lostTitle: "Lost phone: report it and pick up on this phone",
    lostHint: "The lost phone's cards are suspended at once. Then a code sent to your registered phone number, or an "
      + "officer's approval, lets this phone pick up new cards.",
    citizenId: "Citizen ID", recoveryCode: "Recovery code", lostSubmit: "Report lost",
    sendCode: "Send the SMS code", codeLabel: "SMS code (6 digits)", confirmCode: "Confirm the code",
    waitOfficer: "Or no code: once an officer approves, this wallet picks the cards up when it is online.",
    notices: "Notices", noNotices: "No notices.",
    errors: {
      recovery_refused: "The citizen ID or the recovery code is wrong. Nothing was changed.",
      throttled: (s) => `Too many tries: try again ${s ? `in ${Math.ceil(s / 60)} min` : "later"}. Nothing was changed.`,
      code_refused: "The code is wrong or has expired.", request_conflict: "This card has a request in progress: wait until it is done.",
      credential_not_current: "This card is suspended, revoked or expired: it cannot be used online.",
      invalid_presentation: "This phone could not prove it holds the card (it does not match the issuer's records).",
      not_endorsable: "This card cannot be endorsed.", invalid_request: "Something entered is not valid: check and try again.",
      request_not_found: "No such request.", offline: "No network. Services online need the network.",
      no_sd_jwt: "This card holds no credential that can sign in online; pick it up again at the window.",
      no_district: "Choose the new district.", no_address: "Enter the new address.", bad_citizen_id: "Enter the 18-character citizen ID.",
      login_refused: "You refused to log in: no request was made and nothing was changed.",
      login_untrusted: "The login request cannot be confirmed to come from the issuer: no card data was sent.",
      login_no_anchors: "This wallet has no trusted CA for the issuer's login certificate yet: services online cannot log in.",
      login_no_match: "The issuer's login does not take this card. No card data was sent.",
      login_root_unpinned: "This wallet has not checked the issuer's root yet (open it online once): the login request cannot be confirmed. No card data was sent.",
      login_root_mismatch: "The login request rests on a root other than the issuer's root this wallet pinned at pickup: refused, no card data was sent.",
      endorsement_not_due: (day) => `Too early to endorse${day ? `: you can ask for it online from ${day}` : ""}. No request was made.`,
      renewal_refused: "Nothing to renew: no endorsement or address change is approved. No card was picked up.",
      renewal_mismatch: "The renewal's answer does not belong to this request: no card was picked up.",
      unknown: "Something went wrong; nothing was changed.",
    },
  },
};

const DAY = /\b(\d{4}-\d{2}-\d{2})\b/;

/** What the resident is told about a failed exchange with the resident service: the wallet's own words for
 * what it knows how to explain, else the service's description (zh, then en), else a general sentence. */
export function requestErrorText(err, lang) {
  const words = REQUEST_LABELS[lang].errors;
  if (err?.kind === "offline") return words.offline;
  if (err?.kind === "local") return words[err.detail] ?? words.unknown;
  if (err?.kind === "renewal_refused") return err.data?.error === "access_denied" ? words.renewal_refused : words.renewal_mismatch;
  const status = err?.data?.status;
  const code = err?.data?.error;
  if (status === 429) return words.throttled(err.data.retryAfter);
  if (code === "endorsement_not_due") { // the day the window opens, from the service's description
    const day = DAY.exec(err.data.descriptionZh ?? "")?.[1] ?? DAY.exec(err.detail ?? "")?.[1] ?? null;
    return words.endorsement_not_due(day);
  }
  if (typeof words[code] === "string") return words[code];
  return serviceDescription(err) || words.unknown;
}

/** The service's own words {zh, en} about a request, in the wallet's language first. */
export const serviceWords = (message, lang) => (message ? (lang === "zh" ? message.zh : message.en) ?? "" : "");

// The words of the presentation screens (present.js, presentview.js), Chinese first, English on the switch.
// Kept apart from i18n.js so the two screens can change without touching each other's words.
export const PRESENT_LABELS = {
  zh: {
    open: "网上出示", title: "向网上核验方出示证件", scan: "扫描二维码", stopScan: "停止扫描",
    pasteLabel: "或粘贴核验方的请求链接（openid4vp://…）", go: "打开请求", reading: "正在核对请求方身份…",
    asks: "请求方", proved: (host) => `已核实：证书由本钱包信任的机构签发，属于 ${host}`,
    claims: "对方请求以下信息（仅发送这些）：", always: "另外总会发送：证件类型和有效期限。",
    card: "使用的证件", accept: "同意并发送", decline: "拒绝", sending: "正在发送…",
    done: "已发送。请在核验方页面查看结果。", declined: "已拒绝，核验方已收到您的拒绝。", back: "返回",
    noCamera: "无法使用摄像头。请粘贴请求链接。", noQr: "没有识别到二维码。",
    purpose: {
      login: "登录网上办事：签发机关的在线服务要求您出示此证件以确认身份。拒绝则不提交任何申请。",
      renewal: "领取新证件：签发机关要求您出示现有证件登录，新证件与现有证件使用同一设备密钥。拒绝则暂不领取。",
    },
    errors: {
      bad_link: "这不是有效的核验请求链接。",
      untrusted: "无法确认请求方身份（证书不受本钱包信任或与网址不符）。未发送任何信息。",
      bad_request: "核验请求内容无效，已拒绝。未发送任何证件信息。",
      expired: "核验请求已过期。请让对方重新生成二维码。",
      no_match: "本机没有对方请求的证件类型。未发送任何证件信息。",
      no_anchors: "本钱包尚未配置可信的核验方证书机构，暂不能网上出示。",
      unreachable: "无法连接核验方。请检查网络后重试。", offline: "无法连接网络。",
      verifier_error: "核验方拒绝了此次出示（请求可能已过期或已被使用）。", unknown: "出现错误。",
    },
  },
  en: {
    open: "Present online", title: "Present a card to an online verifier", scan: "Scan QR code", stopScan: "Stop scanning",
    pasteLabel: "or paste the verifier's request link (openid4vp://…)", go: "Open request", reading: "Checking who asks…",
    asks: "Asked by", proved: (host) => `Verified: a certificate from a CA this wallet trusts names ${host}`,
    claims: "They ask for (only these are sent):", always: "Always sent as well: the card type and its validity.",
    card: "Card used", accept: "Agree and send", decline: "Refuse", sending: "Sending…",
    done: "Sent. See the result on the verifier's page.", declined: "Refused; the verifier was told.", back: "Back",
    noCamera: "The camera cannot be used. Paste the request link instead.", noQr: "No QR code found.",
    purpose: {
      login: "Log in to the services online: the issuer's online service asks you to present this card to confirm who you are. Refuse, and no request is made.",
      renewal: "Pick up your new card: the issuer asks you to log in with the card you hold; the new card uses the same device key. Refuse, and it waits.",
    },
    errors: {
      bad_link: "This is not a valid verification request link.",
      untrusted: "Who asks cannot be confirmed (the certificate is not trusted by this wallet or does not match the site). Nothing was sent.",
      bad_request: "The verification request is invalid and was refused. No card data was sent.",
      expired: "The verification request has expired. Ask for a new QR code.",
      no_match: "No card on this phone is of the type asked for. No card data was sent.",
      no_anchors: "This wallet has no trusted CA for verifiers configured yet: presenting online is not possible.",
      unreachable: "The verifier cannot be reached. Check the network and try again.", offline: "No network.",
      verifier_error: "The verifier refused this presentation (the request may have expired or been used).",
      unknown: "Something went wrong.",
    },
  },
};

// What each claim a verifier may ask for is called (credential/codes.py FIELD_LABELS).
export const CLAIM_LABELS = {
  name: ["姓名", "Name"], name_pinyin: ["姓名拼音", "Name (pinyin)"], sex: ["性别", "Sex"], ethnicity: ["民族", "Ethnicity"],
  birthdate: ["出生日期", "Date of birth"], citizen_id: ["公民身份号码", "Citizen ID number"],
  address: ["居住地址", "Residence address"], document_number: ["证件号码", "Document number"],
  district: ["居住地", "Residence district"], authority_code: ["签发机关代码", "Issuing authority code"],
  authority_name: ["签发机关", "Issuing authority"], portrait_sha256: ["照片摘要", "Portrait digest"],
};

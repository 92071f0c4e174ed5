"""The fictional cast and phrases that ``seed_demo`` draws from.

Every organisation, person, work, product and URL here is invented; URLs use the reserved
``.example`` domain. Texts come in Japanese and English because a case is written in the
respondent's working language.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkSpec:
    kind: str
    title_ja: str
    title_en: str
    description: str
    series_ja: str = ""
    series_en: str = ""


@dataclass(frozen=True)
class PersonSpec:
    email: str
    full_name: str
    role: str
    language: str = "ja"


@dataclass(frozen=True)
class OrganisationSpec:
    slug: str
    kind: str
    name_ja: str
    name_en: str
    people: tuple[PersonSpec, ...]
    works: tuple[WorkSpec, ...] = ()
    # Providers only: (product, (model, ...)), the locator pattern and the working language.
    products: tuple[tuple[str, tuple[str, ...]], ...] = ()
    url_pattern: str = ""
    share_id_pattern: str = ""
    language: str = "ja"
    weight: int = 1  # how often the organisation takes part in a generated case


ASSOCIATION = OrganisationSpec(
    slug="jcrc",
    kind="association",
    name_ja="一般社団法人 日本コンテンツ権利協議会",
    name_en="Japan Content Rights Council",
    people=(
        PersonSpec("admin@association.demo", "山本 恵子", "association_admin"),
        PersonSpec("analyst@association.demo", "井上 大輔", "association_analyst"),
    ),
)

MEMBERS = (
    OrganisationSpec(
        slug="studio-kazamidori",
        kind="member",
        name_ja="株式会社スタジオ風見鶏",
        name_en="Studio Kazamidori Co., Ltd.",
        weight=4,
        people=(
            PersonSpec("admin@member.demo", "中村 彩", "member_admin"),
            PersonSpec("legal@member.demo", "佐藤 健一", "member_legal"),
        ),
        works=(
            WorkSpec(
                "series",
                "星屑ハンターズ",
                "Stardust Hunters",
                "TVアニメ（全24話）と劇場版。 / TV anime and film.",
            ),
            WorkSpec(
                "character",
                "ホシノ・ミラ",
                "Mira Hoshino",
                "『星屑ハンターズ』の主人公。左頬の星形の模様が特徴。 / Lead of Stardust Hunters.",
                "星屑ハンターズ",
                "Stardust Hunters",
            ),
            WorkSpec(
                "character",
                "機械猫ボルト",
                "Bolt the Clockwork Cat",
                "ミラの相棒のゼンマイ仕掛けの猫。 / Mira's clockwork companion.",
                "星屑ハンターズ",
                "Stardust Hunters",
            ),
            WorkSpec(
                "series", "月影のリンネ", "Rinne of the Moonlit Shadow", "深夜アニメ。 / Late-night anime."
            ),
        ),
    ),
    OrganisationSpec(
        slug="shinonome-films",
        kind="member",
        name_ja="東雲フィルム株式会社",
        name_en="Shinonome Films Inc.",
        weight=2,
        people=(
            PersonSpec("admin@shinonome-films.demo", "田中 浩二", "member_admin"),
            PersonSpec("legal@shinonome-films.demo", "渡辺 由美", "member_legal"),
        ),
        works=(
            WorkSpec(
                "film",
                "雨上がりの灯台",
                "The Lighthouse After the Rain",
                "長編実写映画。 / Live-action feature.",
            ),
            WorkSpec("film", "鋼の浪人", "The Steel Ronin", "時代劇SF映画。 / Period science-fiction film."),
            WorkSpec(
                "character",
                "浪人・鉄斎",
                "Tessai the Steel Ronin",
                "『鋼の浪人』の主人公。 / Lead of The Steel Ronin.",
                "鋼の浪人",
                "The Steel Ronin",
            ),
        ),
    ),
    OrganisationSpec(
        slug="pixel-inari",
        kind="member",
        name_ja="株式会社ピクセル稲荷",
        name_en="Pixel Inari Games K.K.",
        weight=2,
        people=(
            PersonSpec("admin@pixel-inari.demo", "加藤 拓也", "member_admin"),
            PersonSpec("legal@pixel-inari.demo", "吉田 さくら", "member_legal"),
        ),
        works=(
            WorkSpec(
                "game", "蒼穹のアルカディア", "Arcadia of the Azure Sky", "アクションRPG。 / Action RPG."
            ),
            WorkSpec(
                "character",
                "天空騎士ルカ",
                "Luca the Sky Knight",
                "『蒼穹のアルカディア』の主人公。 / Lead of Arcadia of the Azure Sky.",
                "蒼穹のアルカディア",
                "Arcadia of the Azure Sky",
            ),
            WorkSpec("game", "ねこねこダンジョン", "Neko Neko Dungeon", "パズルゲーム。 / Puzzle game."),
        ),
    ),
    OrganisationSpec(
        slug="harukaze-records",
        kind="member",
        name_ja="ハルカゼ・レコーズ株式会社",
        name_en="Harukaze Records Inc.",
        weight=2,
        people=(
            PersonSpec("admin@harukaze-records.demo", "松本 直樹", "member_admin"),
            PersonSpec("legal@harukaze-records.demo", "清水 美穂", "member_legal"),
        ),
        works=(
            WorkSpec(
                "song",
                "夜明けのメトロノーム",
                "Metronome at Dawn",
                "青空ループのシングル。 / Single by Aozora Loop.",
            ),
            WorkSpec(
                "song",
                "サイダー色の約束",
                "A Promise the Colour of Cider",
                "アニメ主題歌。 / Anime theme song.",
            ),
            WorkSpec("song", "東京ネオン・ララバイ", "Tokyo Neon Lullaby", "シティポップ。 / City pop."),
        ),
    ),
    OrganisationSpec(
        slug="manbou-shoten",
        kind="member",
        name_ja="株式会社まんぼう書店",
        name_en="Manbou Shoten Publishing Co., Ltd.",
        weight=1,
        people=(
            PersonSpec("admin@manbou-shoten.demo", "林 和也", "member_admin"),
            PersonSpec("legal@manbou-shoten.demo", "森 亜希子", "member_legal"),
        ),
        works=(
            WorkSpec(
                "series", "くじら坂の猫たち", "The Cats of Kujira Hill", "連載漫画。 / Serialised manga."
            ),
            WorkSpec(
                "character",
                "三毛猫のおはぎ",
                "Ohagi the Calico",
                "『くじら坂の猫たち』の看板猫。 / Mascot cat.",
                "くじら坂の猫たち",
                "The Cats of Kujira Hill",
            ),
            WorkSpec(
                "artwork", "くじら坂 表紙イラスト集", "Kujira Hill Cover Art", "単行本表紙。 / Volume covers."
            ),
        ),
    ),
    OrganisationSpec(
        slug="atelier-momiji",
        kind="member",
        name_ja="株式会社アトリエ紅葉",
        name_en="Atelier Momiji Inc.",
        weight=1,
        people=(
            PersonSpec("admin@atelier-momiji.demo", "石井 隆", "member_admin"),
            PersonSpec("legal@atelier-momiji.demo", "小川 智子", "member_legal"),
        ),
        works=(
            WorkSpec("character", "もみじまる", "Momijimaru", "ご当地キャラクター。 / Regional mascot."),
            WorkSpec(
                "character", "ゆきんこペンギン", "Yukinko Penguin", "文具キャラクター。 / Stationery mascot."
            ),
            WorkSpec(
                "artwork",
                "もみじまる公式イラスト",
                "Momijimaru Official Artwork",
                "公式イラスト。 / Key art.",
            ),
        ),
    ),
)

PROVIDERS = (
    OrganisationSpec(
        slug="lumenframe",
        kind="provider",
        name_ja="ルーメンフレームAI株式会社",
        name_en="Lumenframe AI, Inc.",
        weight=11,
        language="en",
        people=(
            PersonSpec("admin@provider.demo", "Dana Whitfield", "provider_admin", "en"),
            PersonSpec("agent@provider.demo", "Marcus Lee", "provider_agent", "en"),
        ),
        products=(
            ("Lumenframe Studio", ("LF-Video 2", "LF-Video 3 Turbo")),
            ("Lumenframe API", ("lf-video-3",)),
        ),
        url_pattern="https://studio.lumenframe.example/share/{token}",
    ),
    OrganisationSpec(
        slug="yumemiru",
        kind="provider",
        name_ja="株式会社ユメミル映像",
        name_en="Yumemiru Visual Inc.",
        weight=9,
        language="ja",
        people=(
            PersonSpec("admin@yumemiru.demo", "高橋 真理", "provider_admin"),
            PersonSpec("agent@yumemiru.demo", "小林 翔", "provider_agent"),
        ),
        products=(("ユメミル Motion", ("ym-gen-4", "ym-gen-4.5")), ("ユメミル Shorts", ("ym-shorts-1",))),
        url_pattern="https://app.yumemiru.example/v/{token}",
        share_id_pattern="YM-{digits}",
    ),
)


@dataclass(frozen=True)
class Phrases:
    """Everything one language needs to write a case and its thread."""

    claim_titles: dict[str, tuple[str, ...]]
    count_suffix: str
    claim_description: str
    details: dict[str, tuple[str, ...]]
    inquiry_titles: tuple[str, ...]
    inquiry_description: str
    prompts: dict[str, tuple[str, ...]]
    output_notes: tuple[str, ...]
    acknowledge_notes: tuple[str, ...]
    claimant_messages: tuple[str, ...]
    respondent_messages: tuple[str, ...]
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    response_summaries: tuple[str, ...]
    inquiry_summaries: tuple[str, ...]
    rationales: dict[str, tuple[str, ...]]
    measures: dict[str, tuple[str, ...]]
    dispute_notes: dict[str, str]
    accept_notes: tuple[str, ...]
    withdraw_reasons: tuple[str, ...]
    escalate_reasons: tuple[str, ...]
    close_notes: dict[str, str]
    evidence_log: str


JA = Phrases(
    claim_titles={
        "character": (
            "{label}に酷似したキャラクターが登場する生成動画",
            "{label}の外見を再現した生成動画",
            "{label}をそのまま動かした生成動画の公開",
        ),
        "series": ("{label}の作画と世界観を模倣した生成動画", "{label}のオープニング映像に酷似した生成動画"),
        "film": ("映画{label}の名場面を再現した生成動画", "映画{label}の予告編を模した生成動画"),
        "game": (
            "ゲーム{label}のキャラクターと画面を模倣した生成動画",
            "ゲーム{label}のプレイ映像風の生成動画",
        ),
        "song": ("楽曲{label}のメロディを使った生成動画のBGM", "楽曲{label}を歌わせた生成動画"),
        "artwork": (
            "イラスト{label}をほぼそのまま再現した生成動画",
            "{label}の画風を模倣した生成アニメーション",
        ),
    },
    count_suffix="（{n}件）",
    claim_description=(
        "{product}（{model}）で生成され公開されている動画に、当社が権利を有する{label}と酷似した表現が"
        "含まれています。{detail}当社はこの利用を許諾しておらず、{provider}に学習・生成への利用を許諾した"
        "こともありません。下記の出力の削除と、同様の生成を防ぐ措置を求めます。"
    ),
    details={
        "character": (
            "髪型、衣装の配色、顔の模様まで一致しています。",
            "決め台詞の字幕と変身ポーズも再現されています。",
            "公式設定画と並べると輪郭と配色がほぼ同一です。",
        ),
        "series": (
            "背景美術と色彩設計が本編と見分けがつかない水準です。",
            "タイトルロゴに似た文字も表示されています。",
        ),
        "film": (
            "構図、カメラワーク、照明がほぼ同一です。",
            "劇中の象徴的なショットが構図ごと再現されています。",
        ),
        "game": (
            "体力ゲージやメニュー画面のデザインまで模倣されています。",
            "キャラクターの武器と紋章が一致しています。",
        ),
        "song": (
            "主旋律の最初の8小節がほぼ同じで、テンポとキーも一致しています。",
            "歌詞の一部がそのまま使われています。",
        ),
        "artwork": (
            "筆致と配色、署名の位置まで似せてあります。",
            "表紙の構図が左右反転しただけで再現されています。",
        ),
    },
    inquiry_titles=(
        "{model}の学習データに当社作品が含まれているかの照会",
        "{model}の学習から当社カタログを除外する件の確認",
        "{product}で当社キャラクター名がプロンプトに使えることについての照会",
    ),
    inquiry_description=(
        "当社（{member}）は{provider}に対し、当社作品を学習に利用することを許諾していません。"
        "{model}の学習データに当社作品（{label}など）が含まれているか、含まれている場合はその範囲と"
        "除外の予定をご回答ください。"
    ),
    prompts={
        "character": (
            "{title}が夜のネオン街の屋上を走る、アニメ調、高画質",
            "{title}が小さなラーメン屋でラーメンを食べる、セル画風",
            "{title}と巨大ロボットが渋谷で戦う、映画的な照明",
            "{title}が桜並木を歩く、90年代アニメ風",
        ),
        "series": ("{title}風のオープニング映像、夕焼けの街", "{title}の世界観で新しいエピソード、8秒"),
        "film": (
            "映画「{title}」のワンシーン、夜明けの灯台、フィルム調",
            "「{title}」の予告編、シネマスコープ",
        ),
        "game": ("{title}のボス戦のプレイ映像、UI表示あり", "{title}風のオープニングムービー"),
        "song": ("「{title}」のメロディで歌うミュージックビデオ、シティポップ", "{title}風のBGM付き短編動画"),
        "artwork": ("{title}のイラストを動かす、同じタッチで", "{title}風の水彩アニメーション"),
    },
    output_notes=(
        "共有ページで公開。確認時点の再生回数は約{views}回。",
        "SNSで拡散されているのを当社スタッフが発見。",
        "同じアカウントから類似の動画が複数投稿されています。",
        "",
    ),
    acknowledge_notes=("受領しました。担当者が確認します。", "申立てを受け付けました。", ""),
    claimant_messages=(
        "対応状況を教えていただけますか。",
        "対象の動画がまだ公開されたままです。至急ご確認ください。",
        "ご担当者様のお名前をお知らせください。",
    ),
    respondent_messages=(
        "社内で確認中です。今週中に回答いたします。",
        "Trust & Safety チームに引き継ぎました。",
        "対象の出力を特定しました。対応を検討しています。",
    ),
    questions=(
        "出力#1の生成日時がわかる資料があればご提出ください。",
        "対象作品の権利を貴社が保有していることを示す資料をご提出いただけますか。",
        "共有URLのうちアクセスできないものがあります。スクリーンショットをお送りいただけますか。",
    ),
    answers=(
        "著作権登録の写しとキャラクター設定資料をお送りします。",
        "スクリーンショットを証拠として追加しました。確認日時は各出力の欄のとおりです。",
        "当社が製作委員会の幹事会社として権利を管理しています。",
    ),
    response_summaries=(
        "ご指摘の出力を確認し、下記のとおり対応しました。",
        "当社のコンテンツポリシーに照らして審査した結果を、出力ごとにご報告します。",
        "ご連絡ありがとうございます。各出力への対応は以下のとおりです。",
    ),
    inquiry_summaries=(
        "学習データを確認しました。当社の記録では貴社作品の学習利用は確認されませんでした。今後の学習からも除外します。",
        "学習データの一部に貴社作品の画像が含まれていた可能性があります。次回の学習から除外します。",
    ),
    rationales={
        "removed": (
            "貴社キャラクターとの類似性が高く、当社の利用規約に反すると判断しました。",
            "権利者からの正当な申立てと認め、公開を停止しました。",
        ),
        "blocked": (
            "キャラクター名と関連語をプロンプトで使用できないようにしました。",
            "類似出力が再び生成されないよう、フィルタを追加しました。",
        ),
        "no_action": (
            "一般的な意匠の範囲にとどまり、貴社作品の創作的表現の再製には当たらないと判断しました。",
            "当該出力はすでに投稿者により削除されていました。",
        ),
        "investigating": (
            "生成ログを確認中です。2週間以内に追ってご連絡します。",
            "モデル開発チームで学習データの由来を調査しています。",
        ),
    },
    measures={
        "removed": (
            "共有ページを無効化し、保存データを削除しました。",
            "投稿アカウントに警告を送付しました。",
        ),
        "blocked": (
            "プロンプトのブロックリストに{n}語を追加しました。",
            "該当キャラクターの類似度フィルタを有効にしました。",
        ),
        "no_action": ("",),
        "investigating": ("",),
    },
    dispute_notes={
        "ignores_outputs": "出力#2について回答がありません。",
        "generic_text": "回答が定型文で、具体的な判断理由が示されていません。",
        "no_action": "類似性を認めながら何の措置も取られていません。",
        "no_rationale": "「対応不要」とした理由が説明されていません。",
        "no_contact": "担当者の連絡先が示されていません。",
        "disagree": "当社作品の創作的表現の再製であり、この判断には同意できません。",
    },
    accept_notes=("迅速なご対応ありがとうございました。", "対応内容を確認しました。本件は解決とします。", ""),
    withdraw_reasons=(
        "社内で再確認した結果、当社の権利の範囲外でした。",
        "ライセンス先が別途申立てを行ったため取り下げます。",
        "当事者間で直接合意しました。",
    ),
    escalate_reasons=(
        "申立人の異議を受け、協会で内容を確認します。",
        "回答に出力ごとの判断が欠けているため、協会が仲介します。",
    ),
    close_notes={
        "upheld": "協会は申立てを認め、プロバイダーに出力の削除とプロンプト制限を求めました。",
        "partially_upheld": "出力#1は削除済みと確認し、その他は類似性が低いと判断しました。",
        "not_upheld": "提出された資料からは類似性を認めることができませんでした。",
        "settled": "当事者間でライセンス契約が結ばれたため終了します。",
    },
    evidence_log="確認記録\n案件: {title}\n確認者: {person}\n確認日時: {seen}\nURL: {locator}\n",
)

EN = Phrases(
    claim_titles={
        "character": (
            "Generated video showing a character resembling {label}",
            "Generated clips reproducing the design of {label}",
            "Publicly shared videos animating {label}",
        ),
        "series": (
            "Generated video imitating the art and setting of {label}",
            "Generated video closely copying the opening sequence of {label}",
        ),
        "film": (
            "Generated video recreating key scenes of the film {label}",
            "Generated fake trailer for the film {label}",
        ),
        "game": (
            "Generated video imitating the characters and screens of the game {label}",
            "Generated 'gameplay footage' of {label}",
        ),
        "song": (
            "Generated video whose soundtrack reuses the melody of {label}",
            "Generated music video singing {label}",
        ),
        "artwork": (
            "Generated video that closely reproduces the artwork {label}",
            "Generated animation imitating {label}",
        ),
    },
    count_suffix=" ({n} outputs)",
    claim_description=(
        "Videos generated with {product} ({model}) and shared publicly contain material closely resembling "
        "{label}, which {member} owns. {detail} We have not licensed this use, and we have never permitted "
        "{provider} to use our works for training or generation. We ask you to remove the outputs listed "
        "and to prevent similar generations."
    ),
    details={
        "character": (
            "The hairstyle, the colours of the costume and the facial markings all match.",
            "The catchphrase subtitle and the transformation pose are reproduced as well.",
            "Side by side with the official model sheet, outline and palette are nearly identical.",
        ),
        "series": (
            "The background art and colour design cannot be told apart from the broadcast episodes.",
            "Lettering resembling the series logo is shown as well.",
        ),
        "film": (
            "Composition, camera movement and lighting are almost identical.",
            "Signature shots of the film are reproduced frame by frame.",
        ),
        "game": (
            "Even the health bar and the menu screens are imitated.",
            "The character's weapon and crest match the game's.",
        ),
        "song": (
            "The first eight bars of the melody are nearly the same, in the same key and tempo.",
            "Part of the lyrics is used verbatim.",
        ),
        "artwork": (
            "Brushwork, palette and even the position of the signature are copied.",
            "The cover composition is reproduced, merely mirrored.",
        ),
    },
    inquiry_titles=(
        "Were our works used to train {model}?",
        "Confirmation requested: exclusion of our catalogue from {model} training",
        "Why can our character names be used as prompts in {product}?",
    ),
    inquiry_description=(
        "{member} has not permitted {provider} to use its works for training. Please tell us whether the "
        "training data of {model} includes our works (for example {label}) and, if so, which ones and "
        "when they will be excluded."
    ),
    prompts={
        "character": (
            "{title} running across a neon rooftop at night, anime style, 4k",
            "{title} eating ramen in a tiny shop, cel-shaded",
            "{title} fighting a giant robot in Shibuya, cinematic lighting",
            "{title} walking under cherry blossoms, 90s anime look",
        ),
        "series": (
            "opening sequence in the style of {title}, sunset city",
            "new episode of {title}, 8 seconds",
        ),
        "film": (
            "scene from the movie {title}, lighthouse at dawn, film grain",
            "trailer for {title}, cinemascope",
        ),
        "game": ("{title} boss battle gameplay, HUD visible", "opening movie in the style of {title}"),
        "song": (
            "music video singing {title}, city pop, female vocal",
            "short video with {title} as background music",
        ),
        "artwork": (
            "animate the {title} illustration, same brushwork",
            "watercolour animation in the style of {title}",
        ),
    },
    output_notes=(
        "Shared publicly; about {views} views when we captured it.",
        "Found by our staff while it was spreading on social media.",
        "The same account has posted several similar videos.",
        "",
    ),
    acknowledge_notes=("Received; our Trust & Safety team is reviewing it.", "Acknowledged.", ""),
    claimant_messages=(
        "Could you tell us where this stands?",
        "The videos are still online. Please look into this urgently.",
        "Could you let us know who is handling this case?",
    ),
    respondent_messages=(
        "We are reviewing this internally and will answer this week.",
        "Passed to our Trust & Safety team.",
        "We have located the outputs and are deciding on the measures.",
    ),
    questions=(
        "Could you send anything showing when output #1 was generated?",
        "Could you provide documents showing that your company holds the rights in the work concerned?",
        "Some of the share links no longer open. Could you send screenshots?",
    ),
    answers=(
        "We are sending a copy of the copyright registration and the character model sheets.",
        "We have added screenshots as evidence; the capture times are in each output's row.",
        "We manage the rights as the lead company of the production committee.",
    ),
    response_summaries=(
        "We reviewed the outputs you cited and acted as follows.",
        "We assessed each output against our content policy; the outcome for each is below.",
        "Thank you for the report. Here is what we did with each output.",
    ),
    inquiry_summaries=(
        "We checked the training data. Our records show no use of your works; they stay excluded.",
        "Images of your works may have been in an earlier training set. They are excluded from now on.",
    ),
    rationales={
        "removed": (
            "The output is very close to your character and breaks our terms of use.",
            "We accept this as a valid notice from the rights holder and took the output down.",
        ),
        "blocked": (
            "The character's name and related terms can no longer be used in prompts.",
            "We added a filter so that similar outputs are not generated again.",
        ),
        "no_action": (
            "The output uses generic design elements and does not reproduce your creative expression.",
            "The user had already deleted the output before we looked.",
        ),
        "investigating": (
            "We are checking the generation logs and will follow up within two weeks.",
            "Our model team is investigating where the training data came from.",
        ),
    },
    measures={
        "removed": (
            "Disabled the share page and deleted the stored clip.",
            "Sent a warning to the account that posted it.",
        ),
        "blocked": (
            "Added {n} terms to the prompt blocklist.",
            "Enabled the likeness filter for this character.",
        ),
        "no_action": ("",),
        "investigating": ("",),
    },
    dispute_notes={
        "ignores_outputs": "Output #2 is not addressed at all.",
        "generic_text": "The answer is boilerplate and gives no concrete reasons.",
        "no_action": "You acknowledge the resemblance but have taken no measures.",
        "no_rationale": "There is no explanation of why no action is needed.",
        "no_contact": "No contact person is named.",
        "disagree": "This reproduces our creative expression; we do not accept the assessment.",
    },
    accept_notes=(
        "Thank you for acting quickly.",
        "We have checked the measures and consider this resolved.",
        "",
    ),
    withdraw_reasons=(
        "On review, the work is outside the scope of our rights.",
        "Our licensee has filed its own claim, so we withdraw ours.",
        "The parties have settled directly.",
    ),
    escalate_reasons=(
        "The claimant disputes the response; the Council will review the case.",
        "The response lacks an assessment per output; the Council will mediate.",
    ),
    close_notes={
        "upheld": "The Council upholds the claim; the provider must remove the outputs and restrict prompts.",
        "partially_upheld": "Output #1 was removed; the resemblance of the others was judged too weak.",
        "not_upheld": "The material submitted does not show a resemblance.",
        "settled": "Closed: the parties signed a licence.",
    },
    evidence_log="Capture record\nCase: {title}\nCaptured by: {person}\nSeen at: {seen}\nURL: {locator}\n",
)

PHRASES = {"ja": JA, "en": EN}


def work_label(work: WorkSpec, language: str) -> str:
    """Name a work the way a letter in that language would."""
    if language == "ja":
        if work.kind == "character" and work.series_ja:
            return f"『{work.series_ja}』の「{work.title_ja}」"
        if work.kind in ("song", "artwork", "character"):
            return f"「{work.title_ja}」"
        return f"『{work.title_ja}』"
    if work.kind == "character" and work.series_en:
        return f"{work.title_en} from {work.series_en}"
    return work.title_en

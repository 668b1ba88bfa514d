"""Synthetic Scholar Feed profile pages: a seeded world of researchers and papers, for benchmarks.

The world comes first. Profiled researchers are grouped into labs; each lab has name-only
coauthors (students, collaborators) and a home arXiv category. A paper takes its authors
mostly from one lab, so it appears on the page of every profiled coauthor with the same
title, date and author order. Papers per researcher are heavy-tailed (most 2-20, a few in
the hundreds), author lists run from 1 to 15 names, display names collide now and then and
include accented, hyphenated and CJK names.

Each profiled researcher's page is then rendered at the capture date in the layout of a saved
author page: header, `<N> Papers`, one block per paper (newest first), blocks separated by one
blank line and no line end after the last one, like the real dump. A few pages show per-paper
scores, a few use the compact layout (title and author list on one line), some carry no
optional header lines, and about one profile in a hundred is captured again at a later date
with new papers and higher metrics. Files land in `out_dir/<YYYY-MM-DD>/` (the capture date)
as `<index:06d>_<16 hex digits>.txt`, UTF-8 with LF line ends; the same seed gives the same
bytes.

`naive_floor` is the benchmark baseline: read every file and regex-split it into blocks.
"""

from __future__ import annotations

import gc
import math
import os
import re
import time
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Final, NamedTuple


def _words(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(separator))


DEFAULT_CAPTURE_DATE: Final = date(2026, 11, 25)
FIRST_YEAR: Final = 2005

MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
META_LINE: Final = re.compile(
    r"^(?:\d+(?:\.\d+)?)?[A-Z][A-Z-]*?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{1,2}(?:, \d{4})?(?:Code)?$",
    re.M,
)

# Papers per profiled researcher: 2 * Pareto(1.3) gives a median of 3, 5% above 20 and
# about one in 400 above 200.
PAPERS_PARETO_ALPHA: Final = 1.3
MAX_PAPERS_PER_AUTHOR: Final = 900
# Authors per paper, 1..15.
N_AUTHORS_WEIGHTS: Final = (4, 10, 16, 17, 15, 11, 8, 6, 4, 3, 2, 1.5, 1.2, 1, 0.8)
# How many profiled lab members a paper is cut for (before duplicates collapse).
N_PROFILED_WEIGHTS: Final = (50, 30, 13, 5, 2)
LAB_SIZE_WEIGHTS: Final = (6, 8, 10, 12, 12, 11, 10, 8, 7, 6, 5, 5)
# Name-only coauthors per lab: one per this many authorship slots of its profiled members.
SLOTS_PER_POOL_MEMBER: Final = 3
POOL_SIZE_RANGE: Final = (8, 400)
YEAR_GROWTH: Final = 1.18
NAME_ZIPF_EXPONENT: Final = 0.2

P_HOME_CATEGORY: Final = 0.65
P_OUTSIDE_COAUTHOR: Final = 0.1
P_CROSS_LAB_PROFILED: Final = 0.05
P_HEAD_LAST: Final = 0.4
P_AFFILIATION: Final = 0.12
P_ABSTRACT: Final = 0.92
# Sentences after the lead sentence: 0..3, so abstracts run 1 to 4 sentences.
ABSTRACT_EXTRA_SENTENCE_WEIGHTS: Final = (10, 20, 30, 40)
P_TITLE_CASE: Final = 0.7

RATE_BARE_HEADER: Final = 0.08
RATE_SCORE_PREFIX: Final = 0.10
RATE_COMPACT: Final = 0.02
RATE_RECAPTURE: Final = 0.01
RATE_NAMESAKE: Final = 0.005
P_CATEGORY_LINE: Final = 0.85
P_CITATIONS_LINE: Final = 0.9
P_NOVELTY_LINE: Final = 0.8
P_AI_SCORE_LINE: Final = 0.8
RECAPTURE_DAYS_RANGE: Final = (14, 120)
MAX_RECAPTURE_DATES: Final = 3

# Short codes as the site shows them, with relative weights. DS/IT/NA/SY/LO/GT/MA are
# ambiguous across archives; QX is no arXiv category at all (the rare unknown code).
CATEGORY_WEIGHTS: Final = {
    "CV": 20.0, "LG": 20.0, "CL": 14.0, "AI": 8.0, "IR": 4.0, "RO": 4.0, "ML": 4.0,
    "NE": 3.0, "CR": 3.0, "IV": 3.0, "DS": 2.0, "SY": 2.0, "IT": 1.5, "HC": 1.2, "SE": 1.2,
    "DB": 1.0, "DC": 1.0, "NA": 0.8, "SD": 0.8, "MA": 0.6, "MM": 0.5, "GT": 0.5, "LO": 0.3,
    "QX": 0.05,
}  # fmt: skip
UNKNOWN_CATEGORY: Final = "QX"
AREA_OF: Final = {
    "CV": "vision", "IV": "vision", "MM": "vision",
    "CL": "language",
    "LG": "learning", "ML": "learning", "NE": "learning", "AI": "learning", "MA": "learning",
    "QX": "learning",
    "IR": "retrieval",
    "RO": "robotics", "SY": "robotics",
    "CR": "security",
    "DS": "theory", "IT": "theory", "NA": "theory", "GT": "theory", "LO": "theory",
    "HC": "systems", "SE": "systems", "DB": "systems", "DC": "systems", "SD": "systems",
}  # fmt: skip

AFFILIATIONS: Final = _words(
    "stanford|mit|cmu|berkeley|tsinghua|pku|oxford|cambridge|eth zurich|epfl|toronto|mila|"
    "google|meta|microsoft|nvidia|kaist|tokyo|sjtu|zju|ucla|uw|nyu|inria|mpi|ustc|nus|ntu|"
    "msu|umich|uiuc|gatech|kth|tum|ucl|edinburgh|hkust|cuhk|snu|iisc|technion|weizmann",
    "|",
)

_CN_SYLLABLES: Final = _words(
    "wei jing yu xin hao yang lei jie min tao yan hui lin bo chen jun ying qi zhen kai yi xiao "
    "rui ming zhi xuan jia ran si tong han shuai peng qiang fang na dong hong hua long ping "
    "song wen xue yun zi yao lai meng ning bin chao cheng di fei gang guo heng jian kun li "
    "liang lu miao nan pei qing shan sheng shu ting xiang xu ya yong yuan ze zhong"
)
_CN_FAMILY: Final = _words(
    "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng "
    "Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du "
    "Ye Cheng Wei Su Lu Ding Ren Shen Yao Qian Fan Fang Shi Xue Ran Jin Mao Qiu Hou Zou Bai "
    "Cui Dai Fu Gu Hao Kong Lei Long Meng Mo Niu Qin Shao Tan Wan Xiang Yan Yin Zhan"
)
_TW_SYLLABLES: Final = _words(
    "yi ping chia hsuan yu chiang wei lun hsin ying ming chih yao pei tsung jia bin kuan shang "
    "wen chun hung cheng kai tzu hsiang chieh yen ting li shih"
)
_TW_FAMILY: Final = _words(
    "Hsu Chen Lin Wu Huang Tsai Chang Cheng Yeh Kuo Lai Hsieh Chou Chiu Tseng Hung Liao Chien "
    "Fu Kao Ko Lu Shen Tu"
)
_WESTERN_FIRST: Final = _words(
    "James Michael David John Robert Daniel Matthew Andrew Christopher Thomas Emily Sarah "
    "Jessica Laura Anna Emma Olivia Rachel Katherine Benjamin Samuel Alexander Nicholas Ryan "
    "Kevin Brian Jason Mark Paul Peter Sophia Hannah Grace Julia Alice Claire Adam Noah Ethan "
    "Lucas Oliver Jack William Henry Megan Amanda Nathan Eric Scott Victoria Charlotte Rebecca "
    "Jonathan Joshua Tyler Aaron Sean Patrick Timothy Jeffrey Gregory Stephen Joseph Richard "
    "Elizabeth Jennifer Michelle Lauren Nicole Samantha Natalie Abigail Madeline Caroline Leah "
    "Ian Colin Dylan Evan Gavin Owen Luke Isaac Connor Maya Zoe Ella Ruby Lily Ava"
)
_WESTERN_LAST: Final = _words(
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin "
    "Jackson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green "
    "Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards "
    "Collins Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Reed Bailey Kelly Howard "
    "O'Brien McAllister Fitzgerald Hughes Sullivan Bennett Foster Gray Russell"
)
# English-looking surnames put together from two parts (Ashford, Whitmore, ...).
_SURNAME_HEADS: Final = _words(
    "Ash Black Brad Brook Cald Craw Dal Elling Fair Fen Hart Hay Kings Lang Mar Mid Nor Ox "
    "Pem Ral Red Rut Shel Stan Stock Thorn Whit Wick Win Wood Ather Bur Car Dun Hol"
)
_SURNAME_TAILS: Final = _words(
    "ford more well wood ley ton field worth by ham stead bridge den combe hurst wick ridge "
    "brook dale land"
)
_INDIAN_FIRST: Final = _words(
    "Aditya Rahul Priya Ananya Arjun Rohan Vikram Sanjay Deepak Kavya Neha Pooja Siddharth "
    "Karthik Abhishek Aishwarya Varun Nikhil Shreya Anirudh Harsha Srinivas Lakshmi Meera "
    "Ishaan Tanvi Rajesh Sunita Gaurav Divya Akash Amit Anjali Ashwin Bhavya Chetan Devika "
    "Gautam Hemant Isha Jayant Kiran Manish Nandini Pranav Ritika Sahil Tarun Uday Vivek Yash "
    "Aarav Aditi Ajay Alok Aparna Arvind Ayush Devansh Dhruv Girish Harini Ishita Jyoti Kabir "
    "Keshav Madhav Mihir Mohan Naveen Parth Prakash Radhika Raghav Rohit Sameer Shruti Sneha "
    "Suresh Tejas Vaibhav"
)
_INDIAN_LAST: Final = _words(
    "Sharma Patel Singh Kumar Gupta Reddy Iyer Rao Nair Mehta Agarwal Joshi Mantha Chatterjee "
    "Banerjee Mukherjee Krishnan Srinivasan Menon Bhat Desai Kapoor Verma Mishra Pillai Saxena "
    "Bose Chandra Dutta Ghosh Jain Kulkarni Malhotra Naidu Pandey Raman Sethi Trivedi Varma "
    "Acharya Bhattacharya Chopra Das Goel Hegde Kamath Khanna Mahajan Murthy Narayanan Prasad "
    "Ramesh Sarkar Shetty Subramanian Thakur Venkatesh Yadav Zaveri"
)
_EUROPEAN_FIRST: Final = _words(
    "José María Zoë Søren François Hélène Jürgen Björn Łukasz Małgorzata Dušan Jiří André Inês "
    "Ángel Mónica Renée Gaël Éric Ólafur Çağlar Gökhan Mikkel Anne-Marie Jean-Pierre "
    "Marie-Claire Hans-Peter Karl-Heinz Giulia Matteo Lorenzo Chiara Francesca Luca Pablo Javier "
    "Lucía Sergio Tomasz Katarzyna Pieter Sven Nils Ingrid Astrid Émilie Jean-Baptiste Fabian "
    "Florian Sebastian Johannes Lena Miriam Théo Léa Mathieu Côme Raúl Íñigo Nuño Joaquín "
    "Agnieszka Piotr Ondřej Tereza Bartłomiej Aleksandra Håkon Lærke Mårten Åsa"
)
_EUROPEAN_LAST: Final = _words(
    "García|Martínez|López|González|Rodríguez|Fernández|Sánchez|Pérez|Gómez|Müller|Schäfer|"
    "Schröder|Köhler|Weiß|Groß|Krüger|Dubois|Lefèvre|Moreau|Fournier|Girard|Bernard|Rossi|"
    "Russo|Bianchi|Romano|Colombo|Ricci|Nowak|Kowalski|Wiśniewski|Wójcik|Dvořák|Novák|"
    "Jørgensen|Sørensen|Ødegaard|Lindqvist|Öberg|Ståhl|Yılmaz|Şahin|Öztürk|van der Berg|"
    "de Vries|van Dijk|de la Cruz|dos Santos|Le Gall|Hoffmann|Becker|Wagner|Zimmermann|Braun|"
    "Fontaine|Mercier|Chevalier|Marchetti|Esposito|Ferrara|Navarro|Moreno|Ortega|Castillo|"
    "Kaczmarek|Zieliński|Horváth|Nagy|Kovač|Petrović|Janssen|Lindgren|Nieminen|Virtanen",
    "|",
)
# German and Nordic surnames put together from two parts (Steinberg, Lindqvist, ...).
_EUROPEAN_HEADS: Final = _words(
    "Schwarz Wein Eisen Rosen Stein Lichten Blumen Falken Gold Grün Hoch Kirch Wald Berg Lind "
    "Sjö Ek Holm Sand Dahl Ahl Nord Öster Hag Fors"
)
_EUROPEAN_TAILS: Final = _words("berg bach feld mann thal hof burg dorf ström qvist gren lund holm")
_KR_SYLLABLES: Final = _words(
    "min jun seo yeon ji hoon soo bin jae won hyun woo sung dong ye jin tae young hye eun ha "
    "joon kyung sang hee gyu na ra yun chan"
)
_KR_FAMILY: Final = _words(
    "Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Shin Oh Seo Kwon Hwang Ahn Song Yoo Hong"
)
_JP_GIVEN_HEADS: Final = _words(
    "Hiro Taka Yoshi Kazu Masa Nobu Toshi Aki Haru Shin Kei Ryo Yu Ken Dai Tomo Nao Sho Mitsu "
    "Tatsu Kou Sa Mi Ma"
)
_JP_GIVEN_TAILS: Final = _words("shi ki ya to ta ko mi hiro nori yuki suke aki o kazu ka ri")
_JP_LAST: Final = _words(
    "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada "
    "Sasaki Matsumoto Inoue Kimura Hayashi Shimizu Mori Ikeda Hashimoto Ishikawa Ogawa Okada "
    "Fujita Goto Hasegawa Murakami Kondo Ishii Saito Sakamoto Endo Aoki Fujii Nishimura Fukuda "
    "Ota Miura Okamoto Matsuda Nakagawa"
)
_MIDEAST_FIRST: Final = _words(
    "Mohammed Ahmed Ali Omar Fatima Yusuf Hassan Amir Reza Mehdi Sara Leila Nima Arash Chinedu "
    "Oluwaseun Kwame Amara Tariq Karim Zainab Hamid Parisa Behnam Farid Khaled Layla Mustafa "
    "Nasrin Rashid Samir Tunde Ngozi Ifeoma Babak Shirin Youssef Salma Emeka Abena Adel Bilal "
    "Dina Elham Faisal Hadi Ines Jamal Kamal Lina Majid Nour Rania Sina Walid"
)
_MIDEAST_LAST: Final = _words(
    "Hassan Ahmadi Hosseini Rahimi Karimi Mohammadi Ibrahim Khan Haddad Mansour Okafor Adeyemi "
    "Mensah Nasser Farouk Rezaei Azizi Abdullah Said Al-Hashimi Al-Rashid El-Sayed Bakr Darwish "
    "Ebrahimi Ghorbani Jafari Nwosu Obi Owusu Sadeghi Tehrani Yousefi Zaki Abbasi Amini "
    "Bakhtiari Eze Fadel Habibi Kazemi Mahmoud Moradi Najafi Oyelaran Salehi Shams Soltani "
    "Taheri Yilmaz"
)
_CJK_ZH_FAMILY: Final = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐")
_CJK_ZH_GIVEN: Final = tuple("伟芳娜敏静丽强磊军洋艳勇杰娟涛明超秀英华建晓子涵雨桐浩宇欣怡佳琪")
_CJK_JA_FAMILY: Final = _words(
    "佐藤 鈴木 高橋 田中 渡辺 伊藤 山本 中村 小林 加藤 吉田 山田 佐々木 松本 井上 木村 林 清水"
)
_CJK_JA_GIVEN: Final = _words(
    "太郎 花子 翔 陽菜 大輔 健太 美咲 直樹 拓也 由紀 浩 明 誠 恵 智也 彩 悠斗 結衣 蓮 葵"
)
_CJK_KO_FAMILY: Final = tuple("김이박최정강조윤장임")
_CJK_KO_SYLLABLES: Final = tuple("민준서연지훈수빈예은현우도윤하영성호")
_INITIALS: Final = tuple("ABCDEFGHJKLMNPRSTW")

_ADJECTIVES: Final = _words(
    "efficient|scalable|robust|unified|hierarchical|adaptive|lightweight|interpretable|"
    "contrastive|generative|sparse|probabilistic|causal|multi-scale|multimodal|self-supervised|"
    "zero-shot|federated|equivariant|differentiable|memory-efficient|provably convergent|"
    "uncertainty-aware|privacy-preserving|physics-informed|label-efficient|incremental|"
    "distributed|dynamic|compositional|cross-domain|end-to-end|training-free|curriculum-based|"
    "low-rank|diffusion-based|graph-based|attention-based|Bayesian|modular|fine-grained|"
    "long-horizon|energy-based|retrieval-augmented|structure-aware",
    "|",
)
_NOUNS: Final = _words(
    "framework|representation learning|attention mechanism|diffusion model|graph neural network|"
    "mixture of experts|policy optimization|contrastive pretraining|knowledge distillation|"
    "prompt tuning|state space model|memory network|optimal transport|variational inference|"
    "kernel method|token pruning|reward modelling|sparse autoencoder|feature alignment|"
    "data augmentation|score matching|message passing|quantization|structure learning|"
    "retrieval augmentation|world model|neural field|spectral clustering|test-time adaptation|"
    "ensemble learning|hypernetwork|low-rank adaptation|masked modelling|active learning",
    "|",
)
_PROPERTIES: Final = _words(
    "robustness|generalization|sample complexity|calibration|expressivity|convergence|stability|"
    "memorization|scaling behaviour|fairness|identifiability|privacy leakage|sensitivity|"
    "transferability",
    "|",
)
_CONSTRAINTS: Final = _words(
    "distribution shift|label noise|limited supervision|privacy constraints|"
    "adversarial perturbations|a fixed compute budget|partial observability|missing modalities|"
    "class imbalance|long-tailed distributions|real-time constraints|communication limits",
    "|",
)
_METRICS: Final = _words(
    "accuracy|F1 score|mean average precision|BLEU|NDCG@10|recall@20|success rate|PSNR|AUC|"
    "exact match|top-1 accuracy|macro-F1",
    "|",
)
_COSTS: Final = _words(
    "inference latency|memory usage|training time|communication cost|energy consumption|"
    "the number of parameters|serving cost",
    "|",
)
_REQUIREMENTS: Final = _words(
    "paired annotations|access to the training data|task-specific architectures|"
    "hand-crafted features|expensive retraining|ground-truth labels|a simulator",
    "|",
)
_FORMULATIONS: Final = _words(
    "a constrained optimization problem|a sequence modelling problem|"
    "a bilevel optimization problem|an optimal transport problem|a graph matching problem|"
    "a Markov decision process|a set prediction problem",
    "|",
)
_AREA_TASKS: Final = {
    "vision": "image segmentation|object detection|3D reconstruction|video understanding|"
    "depth estimation|pose estimation|image super-resolution|visual tracking|scene parsing|"
    "point cloud registration|novel view synthesis|image captioning|medical image segmentation|"
    "remote sensing change detection|face anti-spoofing|open-vocabulary detection|"
    "text-to-image generation|sparse view CT reconstruction|optical flow estimation|"
    "visual place recognition",
    "language": "machine translation|question answering|abstractive summarization|"
    "named entity recognition|dialogue generation|instruction tuning|code generation|"
    "fact verification|legal reasoning|mathematical reasoning|retrieval-augmented generation|"
    "sentiment analysis|speech translation|text classification|hallucination detection|"
    "long-context modelling|multilingual understanding|reading comprehension",
    "learning": "continual learning|few-shot classification|domain adaptation|"
    "federated learning|graph representation learning|reinforcement learning|"
    "self-supervised learning|adversarial training|anomaly detection|causal discovery|"
    "time series forecasting|neural architecture search|uncertainty estimation|"
    "model compression|meta learning|offline policy evaluation|spiking neural networks|"
    "fairness-aware classification|in-context learning|preference optimization",
    "retrieval": "sequential recommendation|dense retrieval|click-through rate prediction|"
    "query understanding|learning to rank|conversational search|cold-start recommendation|"
    "generative retrieval|news recommendation|session-based recommendation",
    "robotics": "robot manipulation|legged locomotion|motion planning|visual navigation|"
    "multi-robot coordination|grasp detection|model predictive control|SLAM|"
    "imitation learning|sim-to-real transfer|power grid control|trajectory optimization",
    "security": "malware detection|membership inference|backdoor defence|differential privacy|"
    "intrusion detection|smart contract auditing|fuzzing|side-channel analysis|"
    "privacy-preserving inference|jailbreak detection",
    "theory": "online algorithms|graph sparsification|error-correcting codes|"
    "streaming algorithms|sparse recovery|mechanism design|approximate counting|"
    "numerical linear algebra|low-rank approximation|submodular maximization|"
    "channel capacity estimation|property testing",
    "systems": "distributed training|query optimization|automated program repair|"
    "user interface design|audio source separation|serverless scheduling|"
    "log anomaly detection|data cleaning|speech enhancement|accessibility evaluation",
}
_AREA_DATA: Final = {
    "vision": "spherical images|aerial imagery|LiDAR point clouds|egocentric video|"
    "satellite images|histopathology slides|event cameras|multi-view images|synthetic scenes|"
    "street-view panoramas",
    "language": "low-resource languages|clinical notes|scientific papers|social media posts|"
    "legal documents|parallel corpora|code repositories|news articles|conversational logs",
    "learning": "tabular data|graphs|imbalanced datasets|noisy labels|streaming data|"
    "molecular graphs|sensor signals|non-IID clients|synthetic benchmarks",
    "retrieval": "user behaviour logs|e-commerce catalogues|web-scale corpora|"
    "implicit feedback|product reviews|music streaming data",
    "robotics": "human demonstrations|tactile sensing|quadruped robots|autonomous vehicles|"
    "warehouse robots|drone swarms",
    "security": "network traffic|binary executables|federated clients|encrypted logs|"
    "IoT devices|blockchain transactions",
    "theory": "dynamic graphs|noisy channels|high-dimensional data|random matrices|"
    "sparse matrices|massive datasets",
    "systems": "production workloads|open-source projects|crowd workers|large clusters|"
    "relational databases|music recordings",
}
_METHOD_PREFIXES: Final = _words(
    "Uni Meta Hyper Omni Deep Graph Neuro Flash Dyna Proto Auto Trans Diff Vis Lang Spec Quant "
    "Sparse Fed Robo Cross Multi Self Contra Poly Geo Cog Mem Lite Fast Open Pan Tri Bi Seq "
    "Temp Struct Causal"
)
_METHOD_MIDDLES: Final = ("",) * 8 + _words(
    "Pin Vid Text Point Code Med Sat Mol Audio Scene Token Pose Depth Chem"
)
_METHOD_SUFFIXES: Final = _words(
    "Former Net Rec Mix GPT Diff Seg Bench Flow Align Tune Fusion Nav Guard Lens Mamba Prompt "
    "Gen Rank Match Loc Sim Distill Bot LM Edit Map Track"
)
_SMALL_WORDS: Final = frozenset(
    _words("a an and as at by for from in into of on or the to under via vs with without")
)
# Title templates and the abstract's lead sentence share fields, so a lead sentence talks about
# its title; `_FIELDS` is the order in which `_Text` hands them to str.format.
_FIELDS: Final = ("method", "task", "data", "adj", "noun", "prop", "constraint", "Task", "a_adj")
_TITLE_TEMPLATES: Final = (
    "{method}: {adj} {noun} for {task}",
    "{method}: {task} with {adj} {noun} on {data}",
    "{method}: {adj} {task} at scale",
    "{adj} {noun} for {task}",
    "towards {adj} {task} via {noun}",
    "on the {prop} of {noun} in {task}",
    "{task} via {adj} {noun}",
    "rethinking {noun} for {adj} {task}",
    "learning {adj} {noun} from {data}",
    "{adj} {task} under {constraint}",
    "when {noun} meets {task}: {adj} models for {data}",
    "{task} with {adj} {noun}: a study on {data}",
)
_LEAD_TEMPLATES: Final = (
    "We present {method}, {a_adj} {noun} for {task}.",
    "This paper studies {task} on {data} from the perspective of {noun}.",
    "{Task} is increasingly important for applications built on {data}, where {prop} matters.",
    "We revisit {noun} for {task} and identify why existing methods fail under {constraint}.",
)
_SENTENCE_TEMPLATES: Final = (
    "{Task} remains challenging because existing approaches based on {noun} rely on "
    "assumptions about {data} that rarely hold in practice, and their performance drops sharply "
    "under {constraint}.",
    "We propose {a_adj} {noun} that jointly models {data} and the structure of {task}, and we "
    "show how it can be trained end to end without {requirement} or any additional supervision.",
    "Experiments on {k} public benchmarks show that our method improves {metric} by {p}% over "
    "strong baselines while reducing {cost} by {q}%, with the largest gains on {data}.",
    "Unlike prior work, our approach does not require {requirement}, which makes it applicable "
    "to {data} collected under {constraint}, a setting that is common in real deployments but "
    "rarely studied.",
    "We provide a theoretical analysis showing that the proposed objective bounds the {prop} of "
    "the learned model under {constraint}, and we verify that the bound is informative in "
    "practice.",
    "Extensive ablations reveal that the gains come mainly from the {adj} {noun}, and that "
    "{prop} improves consistently with model size and with the amount of {data} available for "
    "training.",
    "The code, the trained models and the {data} used in our experiments are publicly available "
    "to support further research on {task}.",
    "Recent advances in {noun} have made {task} practical at scale, but their {prop} under "
    "{constraint} is still poorly understood, which limits their use in high-stakes settings.",
    "In this work, we conduct the first systematic study of {prop} in {task}, covering {k} model "
    "families, {k2} datasets and a wide range of training budgets.",
    "Our analysis shows a strong correlation between {prop} and the quality of {data}, "
    "suggesting a simple diagnostic that practitioners can run before committing to a costly "
    "training run.",
    "Deployed in a production system, the method delivers a {p}% improvement in {metric} with "
    "negligible serving overhead and has been running for several months without regressions.",
    "We further introduce a benchmark of {data} with {n} annotated examples and establish "
    "baselines for {task}, revealing a large gap between current methods and human performance.",
    "To address this limitation, we cast {task} as {formulation} and solve it with {a_adj} "
    "{noun} whose components can be trained jointly.",
    "Results on {data} demonstrate state-of-the-art {metric} and better {prop} than methods "
    "based on {noun}, while using {q}% fewer parameters.",
    "Our method achieves a {p}% relative improvement in {metric} and converges {x}x faster than "
    "the strongest baseline, at a comparable cost per step.",
    "We give an algorithm for {task} that runs in $O(n \\log n)$ time and matches the known lower "
    "bound up to constant factors, improving on previous quadratic-time methods.",
    "Regularizing the $\\ell_2$ distance between {adj} features reduces the {prop} gap by {p}% "
    "on {data} without hurting {metric}.",
)
SENTENCES_PER_AREA: Final = 400


@dataclass(frozen=True, slots=True)
class SynthSummary:
    """What one generation run wrote: files, distinct papers on them, bytes, wall seconds."""

    n_files: int
    n_papers_distinct: int
    n_bytes: int
    seconds: float


@dataclass(frozen=True, slots=True)
class FloorResult:
    """What the read-and-split baseline saw: files, paper blocks, bytes, wall seconds."""

    n_files: int
    n_blocks: int
    n_bytes: int
    seconds: float


class _Paper(NamedTuple):
    """One paper of the world, already in the words every page shows it with."""

    title: str
    category: str
    published: date
    has_code: bool
    author_line: str
    score: float
    citations: int
    abstract: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Lab:
    """Profiled researchers who publish together, with their name-only coauthors."""

    members: tuple[int, ...]
    pool_start: int
    pool_size: int
    category: str
    affiliation: str
    start_year: int
    fame: float
    head: int


@dataclass(frozen=True, slots=True)
class _Page:
    """One captured page: whose it is, when, which papers, and how the site showed it."""

    owner: int
    captured: date
    papers: tuple[int, ...]
    citation_growth: float
    header_flags: tuple[bool, bool, bool, bool]
    novelty: int
    ai_score: int
    show_score: bool
    compact: bool


def write_synthetic_profiles(
    n_profiles: int, out_dir: Path, seed: int = 0, capture_date: date = DEFAULT_CAPTURE_DATE
) -> SynthSummary:
    """Write `n_profiles` profile pages (plus later re-captures of a few) under `out_dir`."""
    if n_profiles < 1:
        raise ValueError(f"n_profiles must be at least 1, got {n_profiles}")
    if capture_date.year <= FIRST_YEAR:
        raise ValueError(f"capture_date must fall after {FIRST_YEAR}, got {capture_date}")
    start = time.perf_counter()
    # The world is millions of small objects without cycles; collector passes only cost time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        world = _World(n_profiles, seed, capture_date)
        world.build_papers()
        n_files, n_bytes, written = _write_pages(world, world.plan_pages(), out_dir, seed)
    finally:
        if collecting:
            gc.enable()
    return SynthSummary(n_files, len(written), n_bytes, time.perf_counter() - start)


def _write_pages(
    world: _World, pages: list[_Page], out_dir: Path, seed: int
) -> tuple[int, int, set[int]]:
    """Write each page as one file; return files, bytes and the papers that were shown."""
    file_rng = Random(f"scholarhouse-synth:{seed}:files")
    folders: dict[date, Path] = {}
    index_in_folder: Counter[date] = Counter()
    written: set[int] = set()
    n_bytes = 0
    for page in pages:
        folder = folders.get(page.captured)
        if folder is None:
            folder = folders[page.captured] = out_dir / page.captured.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
        index = index_in_folder[page.captured]
        index_in_folder[page.captured] += 1
        data = world.render(page).encode("utf-8")
        _write_file(folder / f"{index:06d}_{file_rng.getrandbits(64):016x}.txt", data)
        written.update(page.papers)
        n_bytes += len(data)
    return len(pages), n_bytes, written


def _write_file(path: Path, data: bytes) -> None:
    """One open, one write, one close: file creation dominates the cost of small files."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)


def naive_floor(raw_dir: Path) -> FloorResult:
    """Read every file under `raw_dir` and regex-split it into paper blocks; nothing more."""
    start = time.perf_counter()
    n_files = n_blocks = n_bytes = 0
    for path in raw_dir.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        n_files += 1
        n_bytes += len(data)
        n_blocks += len(META_LINE.split(data.decode("utf-8", errors="replace"))) - 1
    return FloorResult(n_files, n_blocks, n_bytes, time.perf_counter() - start)


def _cumulative(weights: tuple[float, ...] | list[float]) -> list[float]:
    return list(accumulate(weights))


def _zipf_cumulative(n: int, exponent: float) -> list[float]:
    return _cumulative([1.0 / (rank + 1) ** exponent for rank in range(n)])


def _pick_uniform(rng: Random, items: tuple[str, ...]) -> str:
    return items[int(rng.random() * len(items))]


def _title_case(text: str, inner: bool = False) -> str:
    """Capitalise each word but inner small words; `inner` text continues a title."""
    words = text.split(" ")
    out: list[str] = []
    starts_phrase = not inner
    for word in words:
        if word and word[0].islower() and (starts_phrase or word not in _SMALL_WORDS):
            word = word[0].upper() + word[1:]
        out.append(word)
        starts_phrase = word.endswith(":")
    return " ".join(out)


def _capitalized(text: str) -> str:
    return text[0].upper() + text[1:]


class _Names:
    """Display names from the name lists of several cultures, common names a little more often.

    Lists are sized so that namesakes occur now and then (a few percent of 10,000 profiles)
    rather than on every other page.
    """

    def __init__(self, rng: Random) -> None:
        self._rng = rng
        self._cumulative: dict[int, list[float]] = {}
        makers = (
            (30.0, self._chinese),
            (18.0, self._western),
            (9.0, self._indian),
            (13.0, self._european),
            (4.0, self._taiwanese),
            (5.0, self._korean),
            (5.0, self._japanese),
            (6.0, self._mideast),
            (2.0, self._cjk),
        )
        self._makers = tuple(maker for _, maker in makers)
        self._maker_cum = _cumulative([weight for weight, _ in makers])

    def draw(self) -> str:
        """One display name."""
        point = self._rng.random() * self._maker_cum[-1]
        return self._makers[bisect_right(self._maker_cum, point)]()

    def _pick(self, items: tuple[str, ...]) -> str:
        # Keyed by identity: every list is a module constant that lives as long as the process.
        cum = self._cumulative.get(id(items))
        if cum is None:
            cum = self._cumulative[id(items)] = _zipf_cumulative(len(items), NAME_ZIPF_EXPONENT)
        return items[bisect_right(cum, self._rng.random() * cum[-1])]

    def _chance(self, probability: float) -> bool:
        return self._rng.random() < probability

    def _chinese(self) -> str:
        given = self._pick(_CN_SYLLABLES).capitalize()
        if self._chance(0.75):
            given += self._pick(_CN_SYLLABLES)
        return f"{given} {self._pick(_CN_FAMILY)}"

    def _taiwanese(self) -> str:
        second = self._pick(_TW_SYLLABLES)
        if self._chance(0.7):
            second = second.capitalize()
        return f"{self._pick(_TW_SYLLABLES).capitalize()}-{second} {self._pick(_TW_FAMILY)}"

    def _korean(self) -> str:
        first, second = self._pick(_KR_SYLLABLES), self._pick(_KR_SYLLABLES)
        if self._chance(0.3):
            return f"{first.capitalize()}-{second.capitalize()} {self._pick(_KR_FAMILY)}"
        return f"{first.capitalize()}{second} {self._pick(_KR_FAMILY)}"

    def _western(self) -> str:
        first = self._pick(_WESTERN_FIRST)
        if self._chance(0.5):
            last = self._pick(_SURNAME_HEADS) + self._pick(_SURNAME_TAILS)
        else:
            last = self._pick(_WESTERN_LAST)
        return self._with_initial(first, last, 0.35)

    def _indian(self) -> str:
        return self._with_initial(self._pick(_INDIAN_FIRST), self._pick(_INDIAN_LAST), 0.2)

    def _european(self) -> str:
        if self._chance(0.35):
            last = self._pick(_EUROPEAN_HEADS) + self._pick(_EUROPEAN_TAILS)
        else:
            last = self._pick(_EUROPEAN_LAST)
            second = self._pick(_EUROPEAN_LAST[:9])
            if self._chance(0.15) and " " not in last and second != last:
                # Spanish-style double surname.
                last = f"{last}-{second}"
        return self._with_initial(self._pick(_EUROPEAN_FIRST), last, 0.25)

    def _with_initial(self, first: str, last: str, probability: float) -> str:
        if self._chance(probability):
            return f"{first} {self._pick(_INITIALS)}. {last}"
        return f"{first} {last}"

    def _japanese(self) -> str:
        given = self._pick(_JP_GIVEN_HEADS) + self._pick(_JP_GIVEN_TAILS)
        return f"{given} {self._pick(_JP_LAST)}"

    def _mideast(self) -> str:
        return self._with_initial(self._pick(_MIDEAST_FIRST), self._pick(_MIDEAST_LAST), 0.15)

    def _cjk(self) -> str:
        script = self._rng.random()
        if script < 0.6:
            given = self._pick(_CJK_ZH_GIVEN)
            if self._chance(0.6):
                given += self._pick(_CJK_ZH_GIVEN)
            return self._pick(_CJK_ZH_FAMILY) + given
        if script < 0.8:
            return f"{self._pick(_CJK_JA_FAMILY)} {self._pick(_CJK_JA_GIVEN)}"
        given = self._pick(_CJK_KO_SYLLABLES) + self._pick(_CJK_KO_SYLLABLES)
        return self._pick(_CJK_KO_FAMILY) + given


class _Vocab:
    """A word list in lower case and in title case, picked by the same index."""

    __slots__ = ("lower", "size", "title")

    def __init__(self, words: tuple[str, ...]) -> None:
        self.lower = words
        self.title = tuple(_title_case(word, inner=True) for word in words)
        self.size = len(words)


def _positional(template: str) -> str:
    """Named title/lead fields to positions: str.format with positions is the fast path."""
    for position, name in enumerate(_FIELDS):
        template = template.replace("{" + name + "}", "{" + str(position) + "}")
    return template


def _with_article(phrase: str) -> str:
    vowel_sound = phrase[0] in "aeiou" and not phrase.startswith(("uni", "use"))
    return ("an " if vowel_sound else "a ") + phrase


class _Text:
    """Titles (unique per paper) and abstracts, from word lists per research area."""

    def __init__(self, rng: Random) -> None:
        self._rng = rng
        self._methods = tuple(
            prefix + middle + suffix
            for prefix in _METHOD_PREFIXES
            for middle in _METHOD_MIDDLES
            for suffix in _METHOD_SUFFIXES
        )
        self._tasks = {area: _Vocab(_words(words, "|")) for area, words in _AREA_TASKS.items()}
        self._capital_tasks = {
            area: tuple(_capitalized(task) for task in vocab.lower)
            for area, vocab in self._tasks.items()
        }
        self._data = {area: _Vocab(_words(words, "|")) for area, words in _AREA_DATA.items()}
        self._adj = _Vocab(_ADJECTIVES)
        self._adj_with_article = tuple(_with_article(adj) for adj in _ADJECTIVES)
        self._noun = _Vocab(_NOUNS)
        self._prop = _Vocab(_PROPERTIES)
        self._constraint = _Vocab(_CONSTRAINTS)
        self._templates = tuple(
            (_positional(template), _positional(_title_case(template)), "{method}" in template)
            for template in _TITLE_TEMPLATES
        )
        self._leads = tuple(_positional(template) for template in _LEAD_TEMPLATES)
        self._seen: set[str] = set()
        self._extra_cum = _cumulative(ABSTRACT_EXTRA_SENTENCE_WEIGHTS)
        self._pools = {area: self._sentence_pool(area) for area in _AREA_TASKS}

    def _sentence_pool(self, area: str) -> tuple[str, ...]:
        rng = self._rng
        tasks, data = self._tasks[area].lower, self._data[area].lower
        pool: list[str] = []
        for _ in range(SENTENCES_PER_AREA):
            task, adj = _pick_uniform(rng, tasks), _pick_uniform(rng, _ADJECTIVES)
            fields = {
                "task": task,
                "Task": _capitalized(task),
                "data": _pick_uniform(rng, data),
                "adj": adj,
                "a_adj": _with_article(adj),
                "noun": _pick_uniform(rng, _NOUNS),
                "prop": _pick_uniform(rng, _PROPERTIES),
                "constraint": _pick_uniform(rng, _CONSTRAINTS),
                "metric": _pick_uniform(rng, _METRICS),
                "cost": _pick_uniform(rng, _COSTS),
                "requirement": _pick_uniform(rng, _REQUIREMENTS),
                "formulation": _pick_uniform(rng, _FORMULATIONS),
                "k": str(rng.randint(3, 12)),
                "k2": str(rng.randint(5, 40)),
                "p": f"{rng.uniform(0.5, 25):.1f}",
                "q": str(rng.randint(10, 70)),
                "n": f"{rng.randint(2, 500) * 100:,}",
                "x": f"{rng.uniform(1.5, 8):.1f}",
            }
            pool.append(_pick_uniform(rng, _SENTENCE_TEMPLATES).format(**fields))
        return tuple(pool)

    def title_and_abstract(self, area: str) -> tuple[str, tuple[str, ...]]:
        """A title no earlier paper has (case-insensitively) and a 0-4 sentence abstract."""
        r = self._rng.random
        methods, templates = self._methods, self._templates
        tasks, data, adj = self._tasks[area], self._data[area], self._adj
        noun, prop, constraint = self._noun, self._prop, self._constraint
        for attempt in range(1000):
            method = methods[int(r() * len(methods))]
            i_task, i_data = int(r() * tasks.size), int(r() * data.size)
            i_adj, i_noun = int(r() * adj.size), int(r() * noun.size)
            i_prop, i_constraint = int(r() * prop.size), int(r() * constraint.size)
            template, titled_template, has_method = templates[int(r() * len(templates))]
            if attempt >= 10 and not has_method:
                # A made-up method name makes the title fresh when the word lists run short.
                template, titled_template, has_method = templates[0]
            title_case = r() < P_TITLE_CASE
            words = (
                (tasks.title, data.title, adj.title, noun.title, prop.title, constraint.title)
                if title_case
                else (tasks.lower, data.lower, adj.lower, noun.lower, prop.lower, constraint.lower)
            )
            title = (titled_template if title_case else template).format(
                method,
                words[0][i_task],
                words[1][i_data],
                words[2][i_adj],
                words[3][i_noun],
                words[4][i_prop],
                words[5][i_constraint],
            )
            title = title[0].upper() + title[1:]
            key = title.lower()
            if key not in self._seen:
                self._seen.add(key)
                break
        else:  # pragma: no cover - the method-name space makes this unreachable in practice
            raise RuntimeError("could not find a fresh title")
        if r() >= P_ABSTRACT:
            return title, ()
        leads = self._leads if has_method else self._leads[1:]
        sentences = [
            leads[int(r() * len(leads))].format(
                method,
                tasks.lower[i_task],
                data.lower[i_data],
                adj.lower[i_adj],
                noun.lower[i_noun],
                prop.lower[i_prop],
                constraint.lower[i_constraint],
                self._capital_tasks[area][i_task],
                self._adj_with_article[i_adj],
            )
        ]
        cum, pool = self._extra_cum, self._pools[area]
        wanted = 1 + bisect_right(cum, r() * cum[-1])
        while len(sentences) < wanted:
            sentence = pool[int(r() * len(pool))]
            if sentence not in sentences:
                sentences.append(sentence)
        return title, tuple(sentences)


class _World:
    """The seeded population, its labs and papers, and the pages captured of it."""

    def __init__(self, n_profiles: int, seed: int, capture_date: date) -> None:
        self.n_profiles = n_profiles
        self.capture_date = capture_date
        self.rng = Random(f"scholarhouse-synth:{seed}:world")
        self.names_source = _Names(Random(f"scholarhouse-synth:{seed}:names"))
        self.text = _Text(Random(f"scholarhouse-synth:{seed}:text"))
        self.names: list[str] = [self.names_source.draw() for _ in range(n_profiles)]
        self.papers: list[_Paper] = []
        self.papers_of: list[list[int]] = [[] for _ in range(n_profiles)]
        self.lab_of: list[int] = [0] * n_profiles
        self.labs: list[_Lab] = []
        self.categories = tuple(CATEGORY_WEIGHTS)
        self.category_cum = _cumulative(tuple(CATEGORY_WEIGHTS.values()))
        years = range(FIRST_YEAR, capture_date.year + 1)
        elapsed = capture_date.timetuple().tm_yday / 365
        # arXiv grows every year; the capture year counts only up to the capture date.
        self.year_cum = _cumulative(
            [
                YEAR_GROWTH ** (year - FIRST_YEAR) * (elapsed if year == capture_date.year else 1)
                for year in years
            ]
        )
        self.n_authors_cum = _cumulative(N_AUTHORS_WEIGHTS)
        self.feed_years = capture_date.year - FIRST_YEAR
        self.n_profiled_cum = _cumulative(N_PROFILED_WEIGHTS)

    def _category(self) -> str:
        point = self.rng.random() * self.category_cum[-1]
        return self.categories[bisect_right(self.category_cum, point)]

    def _home_category(self) -> str:
        """A lab's usual category: any known code (the unknown one is only ever a stray)."""
        while (category := self._category()) == UNKNOWN_CATEGORY:
            pass
        return category

    def _n_authors(self) -> int:
        return 1 + bisect_right(self.n_authors_cum, self.rng.random() * self.n_authors_cum[-1])

    def _published(self, start_year: int) -> date:
        rng, cum = self.rng, self.year_cum
        low = cum[start_year - FIRST_YEAR - 1] if start_year > FIRST_YEAR else 0.0
        year = FIRST_YEAR + bisect_right(cum, low + rng.random() * (cum[-1] - low))
        year = min(year, self.capture_date.year)
        first = date(year, 1, 1)
        last = self.capture_date if year == self.capture_date.year else date(year, 12, 31)
        return first + timedelta(days=int(rng.random() * ((last - first).days + 1)))

    def _make_labs(self, targets: list[int]) -> None:
        rng = self.rng
        order = list(range(self.n_profiles))
        rng.shuffle(order)
        size_cum = _cumulative(LAB_SIZE_WEIGHTS)
        pool_next = self.n_profiles
        position = 0
        while position < len(order):
            size = 1 + bisect_right(size_cum, rng.random() * size_cum[-1])
            members = tuple(order[position : position + size])
            position += size
            slots = sum(targets[m] for m in members)
            low, high = POOL_SIZE_RANGE
            pool_size = max(low, min(high, slots // SLOTS_PER_POOL_MEMBER))
            for member in members:
                self.lab_of[member] = len(self.labs)
            self.labs.append(
                _Lab(
                    members=members,
                    pool_start=pool_next,
                    pool_size=pool_size,
                    category=self._home_category(),
                    affiliation=_pick_uniform(rng, AFFILIATIONS),
                    start_year=FIRST_YEAR
                    + int(rng.random() ** 1.5 * (self.capture_date.year - FIRST_YEAR)),
                    fame=rng.lognormvariate(0.0, 0.7),
                    head=max(members, key=lambda m: (targets[m], -m)),
                )
            )
            pool_next += pool_size
        self.names.extend(self.names_source.draw() for _ in range(pool_next - self.n_profiles))

    def build_papers(self) -> None:
        """Draw every paper and hand it to the pages of its profiled authors."""
        rng, n = self.rng, self.n_profiles
        targets = [
            min(MAX_PAPERS_PER_AUTHOR, int(2 * rng.paretovariate(PAPERS_PARETO_ALPHA)))
            for _ in range(n)
        ]
        self._make_labs(targets)
        self._give_namesakes()
        n_outside = len(self.names) - n
        for lab in self.labs:
            slots = [member for member in lab.members for _ in range(targets[member])]
            rng.shuffle(slots)
            position = 0
            while position < len(slots):
                size = 1 + bisect_right(self.n_profiled_cum, rng.random() * self.n_profiled_cum[-1])
                authors = list(dict.fromkeys(slots[position : position + size]))
                position += size
                if rng.random() < P_CROSS_LAB_PROFILED:
                    other = int(rng.random() * n)
                    if other not in authors:
                        authors.append(other)
                self._add_paper(lab, authors, n_outside)
        for person in range(n):
            while len(self.papers_of[person]) < 2:
                self._add_paper(self.labs[self.lab_of[person]], [person], n_outside)
        if all(paper.category != UNKNOWN_CATEGORY for paper in self.papers):
            # Even a small world shows the rare unknown code once, so readers meet it.
            stray = int(rng.random() * len(self.papers))
            self.papers[stray] = self.papers[stray]._replace(category=UNKNOWN_CATEGORY)

    def _add_paper(
        self,
        lab: _Lab,
        profiled: list[int],
        n_outside: int,
        window: tuple[date, date] | None = None,
    ) -> int:
        """Add a paper of `lab` with these profiled authors; `window` bounds a new paper's date."""
        r, n = self.rng.random, self.n_profiles
        # A small lab cannot fill a long author list from its own pool; outsiders fill some.
        wanted = min(max(len(profiled), self._n_authors()) - len(profiled), lab.pool_size + 2)
        authors: list[int] = []
        for _ in range(2 * wanted):
            if len(authors) >= wanted:
                break
            if r() < P_OUTSIDE_COAUTHOR:
                extra = n + int(r() * n_outside)
            else:
                extra = lab.pool_start + int(r() * lab.pool_size)
            if extra not in authors:
                authors.append(extra)
        # Name-only coauthors are already in random order; profiled ones go anywhere among them.
        for person in profiled:
            authors.insert(int(r() * (len(authors) + 1)), person)
        if lab.head in profiled and r() < P_HEAD_LAST:
            authors.remove(lab.head)
            authors.append(lab.head)
        category = lab.category if r() < P_HOME_CATEGORY else self._category()
        if window is None:
            published = self._published(lab.start_year)
        else:
            after, until = window
            published = after + timedelta(days=1 + int(r() * (until - after).days))
        title, abstract = self.text.title_and_abstract(AREA_OF[category])
        names = self.names
        author_line = ", ".join([names[a] for a in authors[:3]])
        if len(authors) > 3:
            author_line += " et al."
        if r() < P_AFFILIATION:
            author_line += " · " + lab.affiliation
        age = max(0, (self.capture_date - published).days) / 365.25
        index = len(self.papers)
        self.papers.append(
            _Paper(
                title=title,
                category=category,
                published=published,
                # Code release grows more common over the years: 15% in 2005, 50% now.
                has_code=r() < 0.5 - 0.35 * min(1.0, age / self.feed_years),
                author_line=author_line,
                score=int(350 + r() * 620) / 10,
                citations=int(math.exp(self.rng.gauss(0.8, 1.3)) * lab.fame * age**1.1),
                abstract=abstract,
            )
        )
        papers_of = self.papers_of
        for author in authors:
            if author < n:
                papers_of[author].append(index)
        return index

    def _give_namesakes(self) -> None:
        """Let a few profiled people share a display name with another, unrelated one."""
        n = self.n_profiles
        if n < 2:
            return
        rng = self.rng
        for person in rng.sample(range(n), max(1, round(RATE_NAMESAKE * n))):
            # Namesakes in one lab would list one name twice on a paper; keep them apart.
            for _ in range(8):
                other = int(rng.random() * n)
                if self.lab_of[other] != self.lab_of[person]:
                    self.names[person] = self.names[other]
                    break

    def _pick_pages(self, rate: float) -> set[int]:
        return set(self.rng.sample(range(self.n_profiles), max(1, round(rate * self.n_profiles))))

    def plan_pages(self) -> list[_Page]:
        """One page per profiled researcher, then the later re-captures of a few of them."""
        rng, n, captured = self.rng, self.n_profiles, self.capture_date
        bare = self._pick_pages(RATE_BARE_HEADER)
        scored = self._pick_pages(RATE_SCORE_PREFIX)
        compact = self._pick_pages(RATE_COMPACT)
        recaptured = sorted(self._pick_pages(RATE_RECAPTURE))
        order = list(range(n))
        rng.shuffle(order)
        pages: list[_Page] = []
        for person in order:
            flags = (
                (False, False, False, False)
                if person in bare
                else (
                    rng.random() < P_CATEGORY_LINE,
                    rng.random() < P_CITATIONS_LINE,
                    rng.random() < P_NOVELTY_LINE,
                    rng.random() < P_AI_SCORE_LINE,
                )
            )
            pages.append(
                _Page(
                    owner=person,
                    captured=captured,
                    papers=tuple(self._newest_first(self.papers_of[person])),
                    citation_growth=1.0,
                    header_flags=flags,
                    novelty=rng.randint(18, 78),
                    ai_score=rng.randint(5, 95),
                    show_score=person in scored,
                    compact=person in compact,
                )
            )
        first_page = {page.owner: page for page in pages}
        low, high = RECAPTURE_DAYS_RANGE
        offsets = sorted(
            rng.sample(range(low, high + 1), min(MAX_RECAPTURE_DATES, len(recaptured)))
        )
        n_outside = len(self.names) - n
        for person in recaptured:
            later = captured + timedelta(days=offsets[int(rng.random() * len(offsets))])
            lab = self.labs[self.lab_of[person]]
            new = [
                self._add_paper(lab, [person], n_outside, window=(captured, later))
                for _ in range(rng.choice((1, 2, 2, 3)))
            ]
            first = first_page[person]
            pages.append(
                _Page(
                    owner=person,
                    captured=later,
                    papers=tuple(self._newest_first([*first.papers, *new])),
                    citation_growth=1.0 + 0.3 * (later - captured).days / 365,
                    header_flags=first.header_flags,
                    novelty=max(0, min(100, first.novelty + rng.randint(-2, 2))),
                    ai_score=min(99, first.ai_score + rng.randint(0, 3)),
                    show_score=first.show_score,
                    compact=first.compact,
                )
            )
        return pages

    def _newest_first(self, indices: list[int]) -> list[int]:
        papers = self.papers
        return sorted(indices, key=lambda i: (papers[i].published, i), reverse=True)

    def render(self, page: _Page) -> str:
        """The page's text in the site's layout, blocks separated by one blank line."""
        papers = [self.papers[i] for i in page.papers]
        growth = page.citation_growth
        citations = sorted((math.ceil(p.citations * growth) for p in papers), reverse=True)
        h_index = sum(1 for rank, c in enumerate(citations, start=1) if c >= rank)
        # A later capture shows at least one citation more, even of a page nobody cites yet.
        total = sum(citations) + (1 if page.captured > self.capture_date else 0)
        show_category, show_citations, show_novelty, show_ai = page.header_flags
        lines = [self.names[page.owner], ""]
        if show_category:
            lines.append(Counter(p.category for p in papers).most_common(1)[0][0])
        lines.append(f"h-index{h_index}")
        lines.append(f"{len(papers)}papers")
        if show_citations:
            lines.append(f"{total:,}citations")
        if show_novelty:
            lines.append(f"Novelty{page.novelty}%")
        if show_ai:
            lines.append(f"AI Score{page.ai_score}")
        capture_year = page.captured.year
        title_end = "  " if page.compact else "\n\n"
        blocks = []
        for p in papers:
            published = p.published
            meta = (
                (f"{p.score:.1f}" if page.show_score else "")
                + p.category
                + f"{MONTHS[published.month - 1]} {published.day}"
                + ("" if published.year == capture_year else f", {published.year}")
                + ("Code" if p.has_code else "")
            )
            block = f"{meta}\n{p.title}{title_end}{p.author_line}"
            if p.abstract:
                block += "\n\n" + " ".join(p.abstract)
            blocks.append(block)
        return "\n".join(lines) + f"\n\n{len(papers)} Papers\n\n" + "\n\n".join(blocks)

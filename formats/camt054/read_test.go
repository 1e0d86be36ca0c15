package camt054

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"refundd/formats"
	"refundd/formats/internal/samples"
)

// TestReadSamples reads every public camt.054 and camt.053 sample to the
// end and compares every field read, entry by entry, with the file.
func TestReadSamples(t *testing.T) {
	want := map[string]string{}
	for _, s := range []struct{ name, dump string }{
		{"camt.053/ing-nl-v02-statement-with-returns.xml", `camt.053.001.02 201401030009999_20140104015504378 2014-01-04T01:55:04.378+01:00
report 201401030009999|2014-01-04T01:55:04.378+01:00|seq=03/-|-|NL08INGB0000001234 EUR
ntry 011111333306999888000000008|350.00 EUR CRDT|BOOK|prtry=-|bookg=2014-01-03|val=2014-01-03|ref=59999208N9|btc=PMNT/RCDT/ESCT+00100@INGGroup|amtdtls=-|addtl=""
  dtls
    tx |- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=INGTestrekening@NL20INGB0001234567 cdtr=-@-
      rmt ustrd=[] strd=["SCOR/-/CUR:0010008346912014"]
ntry 011111333306999888111100008|125.00 EUR CRDT|BOOK|prtry=-|bookg=2014-01-03|val=2014-01-03|ref=98888208N8|btc=PMNT/RCDT/ESCT+00101@INGGroup|amtdtls=-|addtl=""
  dtls
    tx |- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=INGTestrekening@NL20INGB0001234567 cdtr=-@-
      rmt ustrd=["UstrdRemi2014010323566INGBankNV"] strd=[]
ntry 023334012226666660000000222|120.00 EUR CRDT|BOOK|prtry=-|bookg=2014-01-03|val=2014-01-03|ref=15180015077602405|btc=PMNT/RCDT/ESCT+00108@INGGroup|amtdtls=-|addtl=""
  dtls
    tx e2e=20140103E2EIdA1INGBankNV|- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=INGTestrekening@NL20INGB0001234567 cdtr=-@-
      rmt ustrd=[] strd=["SCOR/-/CUR:6390338414964113"]
ntry 021213336777108888000000002|270.00 EUR CRDT|BOOK|prtry=-|bookg=2014-01-03|val=2014-01-03|ref=3102766686999|btc=PMNT/IDDT/ESDD+01010@INGGroup|amtdtls=-|addtl=""
  dtls
    btch msg=- pmtinf=SCTBtchId20140103A2PSTN n=2 ttl=- -
ntry 022221333306999888222200008|125.00 EUR CRDT|BOOK|prtry=-|bookg=2014-01-03|val=2014-01-03|ref=98888208N8|btc=PMNT/RCDT/RRTN+00190@INGGroup|amtdtls=-|addtl=""
  dtls
    tx |- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=INGTestrekening@NL20INGB0005047249 cdtr=-@-
      rmt ustrd=["UstrdRemiInf127881778INGB9"] strd=[]
      rtr AC04/- orgnl=- by=- []
ntry 012222333306999888111100002|25.00 EUR DBIT|BOOK|prtry=-|bookg=2014-01-03|val=2014-01-03|ref=77774288N1|btc=PMNT/ICDT/ESCT+00108@INGGroup|amtdtls=-|addtl=""
  dtls
    tx e2e=INGBE2EId545448451E5|- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=-@- cdtr=INGTestrekening@NL20INGB0001234567
      rmt ustrd=[] strd=["SCOR/-/CUR:1234567812345678"]
ntry 022224003708888999000000009|300.00 EUR DBIT|BOOK|prtry=-|bookg=2014-01-03|val=2014-01-03|ref=98997828N7|btc=PMNT/ICDT/ESCT+00200@INGGroup|amtdtls=-|addtl=""
  dtls
    btch msg=- pmtinf=20140103MctBtchId2VZ n=2 ttl=- -
ntry 021514017743280167000000001|30.00 EUR DBIT|BOOK|prtry=-|bookg=2014-01-03|val=2014-01-03|ref=3101963431841|btc=PMNT/RDDT/BBDD+01025@INGGroup|amtdtls=-|addtl=""
  dtls
    tx e2e=6010512558977000,mndt=BBDDMdtESNTR|- -|amtdtls=instd=30.00 EUR tx=- cntrval=-|btc=-|addtl=""
      pties dbtr=-@- cdtr=INGBANKNV@NL20INGB0001234567
      rmt ustrd=["INGB20140103UstrdRemiInf454655GHF"] strd=[]
ntry 021514017743280167000000001|30.00 EUR DBIT REVERSAL|BOOK|prtry=-|bookg=2014-01-03|val=2013-12-20|ref=3101963431841|btc=PMNT/IDDT/UPDD+01304@INGGroup|amtdtls=-|addtl=""
  dtls
    tx e2e=5000300060007000,mndt=DDMdtINGBC|- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=-@- cdtr=INGTestrekening@NL20INGB0001234567
      rmt ustrd=["INGHGV21545UstrdRemiInf20140103GUB"] strd=[]
      rtr MD06/- orgnl=- by=- []
`},
		{"camt.053/nordea-dk-v02-statement-batch-debit-with-msgid-pmtinfid-e2e.xml", `camt.053.001.02 XML99102020092503073121916759394803 2020-09-25T03:07:31.219Z
report 2020-09-25-030731-DKK8496|2020-09-25T03:07:31.219Z|seq=64/64|-|DK0320009876543210 DKK
ntry 1|100.00 DKK CRDT|BOOK|prtry=-|bookg=2020-09-24|val=2020-09-24|ref=3896981720268|btc=PMNT/RCDT/DMCT|amtdtls=-|addtl="502:REFERENCE:Overførsel;802:REFERENCE:CNDKDKDKK60006;821:ADVICE REFERENCE:03896981720268;555:FILE INFORMATION:24092020 6110273894"
  dtls
    tx acctsvcr=6110273894|- -|amtdtls=instd=- tx=100.00 DKK cntrval=-|btc=PMNT/RCDT/DMCT|addtl=""
      rmt ustrd=["REMITTANCE INFO LINE 01" "REMITTANCE INFO LINE 02" "REMITTANCE INFO LINE 03" "REMITTANCE INFO LINE 04" "REMITTANCE INFO LINE 05" "REMITTANCE INFO LINE 06" "REMITTANCE INFO LINE 07" "REMITTANCE INFO LINE 08" "REMITTANCE INFO LINE 09" "REMITTANCE INFO LINE 10"] strd=[]
ntry 2|200.00 DKK CRDT|BOOK|prtry=-|bookg=2020-09-24|val=2020-09-24|ref=-|btc=PMNT/RCDT/VCOM|amtdtls=-|addtl="26:DEBTOR NUMBER:20211041;501:REFERENCE:120200924000001289"
  dtls
    tx acctsvcr=2149202009236109891174|- -|amtdtls=instd=- tx=200.00 DKK cntrval=-|btc=PMNT/RCDT/VCOM|addtl=""
      pties dbtr=-@- cdtr=-@othr:82424016/prtry:OCR
      rmt ustrd=[] strd=["SCOR/-/-:71/000000020211041"]
ntry 3|300.00 DKK CRDT|BOOK|prtry=-|bookg=2020-09-24|val=2020-09-24|ref=3895197120268|btc=PMNT/RCDT/DMCT|amtdtls=-|addtl="502:REFERENCE:KREDITORREFERENCE;804:NOTICE NUMBER:03895197120268;555:FILE INFORMATION:24092020 2110197550"
  dtls
    tx acctsvcr=2110197550,e2e=DK_DOM_DK_to_DK-12_3|- -|amtdtls=instd=- tx=300.00 DKK cntrval=-|btc=PMNT/RCDT/DMCT|addtl=""
      rmt ustrd=[] strd=["SCOR/-/ISO:RF12510007547061"]
ntry 4|400.00 DKK CRDT|BOOK|prtry=-|bookg=2020-09-24|val=2020-09-24|ref=K88889999-2309|btc=PMNT/RCDT/VCOM|amtdtls=-|addtl="502:REFERENCE:K 88889999-23.09;501:REFERENCE:120200925000002880"
  dtls
    btch msg=- pmtinf=- n=2 ttl=- -
    tx acctsvcr=2149202009244110197552|- -|amtdtls=instd=- tx=150.00 DKK cntrval=-|btc=PMNT/RCDT/VCOM|addtl=""
      pties dbtr=-@- cdtr=-@othr:88889999/prtry:OCR
      rmt ustrd=[] strd=["SCOR/-/-:71/000000003097920"]
    tx acctsvcr=2149202009243110197551|- -|amtdtls=instd=- tx=250.00 DKK cntrval=-|btc=PMNT/RCDT/VCOM|addtl=""
      pties dbtr=-@- cdtr=-@othr:88889999/prtry:OCR
      rmt ustrd=[] strd=["SCOR/-/-:71/123456789012347"]
ntry 5|66962.50 DKK DBIT|BOOK|prtry=-|bookg=2020-09-24|val=2020-09-24|ref=-|btc=PMNT/NTAV/NTAV|amtdtls=-|addtl="500:REFERENCE:0ABC-001668SUPP02020;196:ID.:388260530627;528:SUMMARY ITEM:012766221"
  dtls
    btch msg=ABC-001668-20201201101640 pmtinf=0ABC-001668SUPP020201201-01 n=2 ttl=- -
    tx acctsvcr=6127256724,e2e=1004916-5637222635-00|- -|amtdtls=instd=- tx=40177.50 DKK cntrval=-|btc=PMNT/ICDT/DMCT|addtl=""
      pties dbtr=-@- cdtr=CREDITOR NAME@othr:21490810494433/BBAN
      rmt ustrd=["REMITTANCE INFO"] strd=[]
    tx acctsvcr=5127256723,e2e=1004915-5637222634-00|- -|amtdtls=instd=- tx=26785.00 DKK cntrval=-|btc=PMNT/ICDT/DMCT|addtl=""
      pties dbtr=-@- cdtr=CREDITOR NAME@othr:21490810494433/BBAN
      rmt ustrd=["Fak 209655464"] strd=[]
ntry 6|28286.58 DKK CRDT|BOOK|prtry=-|bookg=2020-09-24|val=2020-09-24|ref=7463038123521|btc=PMNT/RCDT/XBCT|amtdtls=-|addtl="802:REFERENCE:7463038123521   S103;802:REFERENCE:8D39484700000021;821:ADVICE REFERENCE:17005268220338;502:REFERENCE:KON konto 0987654321;502:REFERENCE:KON konto 0987654321"
  dtls
    tx acctsvcr=8D39484700000021|- -|amtdtls=instd=- tx=28286.58 DKK cntrval=-|btc=PMNT/RCDT/XBCT|addtl=""
      rmt ustrd=["0000089207 0051012399 0000089209 00" "51012400 0000089213 0051012401 0000" "089214 0051012402"] strd=[]
`},
		{"camt.053/nordea-fi-v02-statement-6-entries.xml", `camt.053.001.02 XML12345678901234567890123456789012 2019-05-09T04:33:00.444Z
report 2019-05-09-04.44.12-EUR0574|2019-05-09T04:33:00.444Z|seq=25/20|-|FI8529501800030574 EUR
ntry 1|10000.00 EUR CRDT|BOOK|prtry=-|bookg=2019-05-08|val=2019-05-08|ref=1905082588CEAA0001|btc=PMNT/RCDT/ESCT|amtdtls=-|addtl=""
  dtls
    tx acctsvcr=1905082588CEAA0001,e2e=20190501-E00005|- -|amtdtls=instd=- tx=10000.00 EUR cntrval=-|btc=-|addtl=""
      rmt ustrd=[] strd=["SCOR/-/-:00000000000000001245"]
ntry 2|100.50 EUR CRDT|BOOK|prtry=-|bookg=2019-05-08|val=2019-05-08|ref=1905082588SM12345678|btc=PMNT/RCDT/XBCT|amtdtls=-|addtl=""
  dtls
    tx acctsvcr=1905082588SM12345678,e2e=NOTPROVIDED|- -|amtdtls=instd=- tx=100.50 EUR cntrval=-|btc=-|addtl=""
      rmt ustrd=["Free text max 140 characters and ma" "x 35 characters in one line"] strd=[]
ntry 3|700.50 EUR DBIT|BOOK|prtry=-|bookg=2019-05-08|val=2019-05-08|ref=1905082588CEAG0003|btc=PMNT/ICDT/ESCT|amtdtls=-|addtl=""
  dtls
    tx msg=0001,acctsvcr=1905082588CEAG0003,pmtinf=PMNTINFID08052019,instr=INSTRID20190508,e2e=20190508-E123456|- -|amtdtls=instd=- tx=700.50 EUR cntrval=-|btc=-|addtl=""
      rmt ustrd=[] strd=["SCOR/-/ISO:RF332348236"]
ntry 4|300.00 EUR DBIT|BOOK|prtry=-|bookg=2019-05-08|val=2019-05-08|ref=1905092588CEAG0004|btc=PMNT/ICCN/ICCT|amtdtls=-|addtl=""
  dtls
    tx acctsvcr=1905092588CEAG0004,e2e=NOTPROVIDED|- -|amtdtls=instd=- tx=300.00 EUR cntrval=-|btc=-|addtl=""
      rmt ustrd=["Free text max 140 characters"] strd=[]
ntry 5|400.00 EUR DBIT|BOOK|prtry=-|bookg=2019-05-08|val=2019-05-08|ref=1905082588CVCC1111|btc=PMNT/NTAV/NTAV|amtdtls=-|addtl=""
  dtls
    tx msg=12345567,acctsvcr=1905082588CVCC1111,e2e=NOTPROVIDED|- -|amtdtls=instd=- tx=400.00 EUR cntrval=-|btc=-|addtl=""
ntry 6|100.00 EUR DBIT|BOOK|prtry=-|bookg=2019-05-08|val=2019-05-08|ref=1905082588AU123456|btc=CAMT/ACCB/SWEP|amtdtls=-|addtl=""
  dtls
    tx acctsvcr=1905082588AU123456|- -|amtdtls=instd=- tx=100.00 EUR cntrval=-|btc=-|addtl=""
      rmt ustrd=["CMS/Account Number"] strd=[]
`},
		{"camt.054/genkgo-v02-debit-3-txdtls-iso-example.xml", `camt.054.001.02 AAAASESS-FP-ACCR001 2007-10-18T12:30:00+01:00
report AAAASESS-FP-ACCR001|2007-10-18T12:30:00+01:00|seq=12312/12312|CODU|othr:CH2801234000123456789
ntry -|200000 SEK DBIT|BOOK|prtry=-|bookg=2007-10-18T13:15:00+01:00|val=2007-10-18|ref=AAAASESS-FP-ACCR001|btc=PMNT/ICDT/DMCT|amtdtls=-|addtl=""
  dtls
    tx e2e=MUELL/FINP/RA12345|- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=MUELLER@- cdtr=-@-
      rmt ustrd=["Unstructured Remittance Information V1"] strd=["-/ISR Reference/-:ISR ref number V1"]
    tx e2e=MUELL/FINP/RA12345|- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=MUELLER@- cdtr=-@-
      rmt ustrd=[] strd=["-/ISR Reference/-:ISR ref number V2"]
    tx e2e=MUELL/FINP/RA12345|- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=MUELLER@- cdtr=-@-
      rmt ustrd=["Unstructured Remittance Information V3 block 1" "Unstructured Remittance Information V3 block 2"] strd=["SCOR/-/-:Ref number V3 block 1" "SCOR/-/-:Ref number V3 block 2"]
`},
		{"camt.054/genkgo-v08-debit-3-txdtls.xml", `camt.054.001.08 AAAASESS-FP-ACCR001 2007-10-18T12:30:00+01:00
report AAAASESS-FP-ACCR001|2007-10-18T12:30:00+01:00|seq=12312/12312|CODU|CH2801234000123456789
ntry -|200000 SEK DBIT|BOOK|prtry=-|bookg=2007-10-18|val=2007-10-18|ref=ACSR160617103200001|btc=PMNT/ICDT/DMCT+Z24@|amtdtls=-|addtl="Order"
  dtls
    btch msg=UXC06170000006 pmtinf=UXC06170000006PI00001 n=2 ttl=6.3 CHF DBIT
    tx pmtinf=UXC06170000006PI00001,instr=UXC06170000006PI00001II00001,e2e=UXC06170000006PI00001EE00001|3.1 CHF CRDT|amtdtls=instd=- tx=3.1 CHF cntrval=-|btc=PMNT/ICDT/DMCT+Z24@|addtl=""
      pties dbtr=UNIFITS GmbH@CH2801234000123456789 cdtr=Example Creditor 3 - V1@CH4112345003131313131
      rmt ustrd=["Unstructured Remittance Information V1"] strd=["-/ISR Reference/-:ISR ref number V1"]
    tx pmtinf=UXC06170000006PI00001,instr=UXC06170000006PI00001II00002,e2e=UXC06170000006PI00001EE00002|3.2 CHF CRDT|amtdtls=instd=- tx=3.2 CHF cntrval=-|btc=PMNT/ICDT/DMCT+Z24@|addtl=""
      pties dbtr=UNIFITS GmbH@CH2801234000123456789 cdtr=Example Creditor 3 - V2@CH7212345003232323232
      rmt ustrd=[] strd=["-/ISR Reference/-:ISR ref number V2"]
    tx pmtinf=UXC06170000006PI00001,instr=UXC06170000006PI00001II00002,e2e=UXC06170000006PI00001EE00002|3.2 CHF CRDT|amtdtls=instd=- tx=3.2 CHF cntrval=-|btc=PMNT/ICDT/DMCT+Z24@|addtl=""
      pties dbtr=UNIFITS GmbH@CH2801234000123456789 cdtr=Example Creditor 3 - V3@CH7212345003232323232
      rmt ustrd=["Unstructured Remittance Information V3 block 1" "Unstructured Remittance Information V3 block 2"] strd=["SCOR/-/-:Ref number V3 block 1" "SCOR/-/-:Ref number V3 block 2"]
`},
		{"camt.054/oca-v04-credit-sps-qrr.xml", `camt.054.001.04 20220126375204763458853 2022-01-26T23:40:40Z
report 20220120000000000000000|2022-01-26T23:40:40Z|seq=-/-|-|NL77ABNA0574908765
ntry NL0000000000000000000|5.00 EUR CRDT|BOOK|prtry=-|bookg=2022-01-26|val=2022-01-26|ref=98888208N8|btc=PMNT/RCDT/VCOM|amtdtls=-|addtl="Additional entry info"
  dtls
    btch msg=- pmtinf=- n=1 ttl=- -
    tx acctsvcr=15180015077602405,instr=MIB InstrId305-312MM20211231v1,e2e=ENDTOENDID-01,prtry=00:20220120000000000000001|5.00 EUR CRDT|amtdtls=-|btc=PMNT/RCDT/ATXN|addtl=""
      pties dbtr=Test Customer@NL46ABNA0499998748 cdtr=-@-
      rmt ustrd=[] strd=["-/QRR/-:000000000000000000000000003"]
`},
		{"camt.054/postfinance-v04-credit-single.xml", `camt.054.001.04 201904245375204223076552 2019-04-24T21:28:58Z
report 20190424375204223076553|2019-04-24T21:28:58Z|seq=-/-|-|CH2909000000250094239
ntry -|1500.00 CHF CRDT|BOOK|prtry=-|bookg=2019-04-24|val=2019-04-25|ref=074820002ZZ9J42U|btc=PMNT/RCDT/VCOM|amtdtls=-|addtl="SAMMELGUTSCHRIFT ESR VERARBEITUNG VOM 24.04.2019 KUNDENNUMMER 01-429580-3 PAKET ID: 180315CH00000HPA"
  dtls
    tx acctsvcr=074820002ZZ9J42U|1500.00 CHF CRDT|amtdtls=-|btc=-|addtl=""
`},
		{"camt.054/postfinance-v04-debit-single.xml", `camt.054.001.04 20190424375204222704046 2014-04-25T01:49:54Z
report 20190424375204222704047|2019-04-25T01:49:54Z|seq=-/-|-|CH2909000000250094239
ntry -|913.00 CHF DBIT|BOOK|prtry=-|bookg=2019-04-25|val=2019-04-25|ref=074820002ZU1EQ0K|btc=PMNT/ICDT/AUTT|amtdtls=-|addtl="GIRO POST CH5109000000250092291 Bernasconi Maria Place de la Gare 12 2502 Biel/Bienne SENDER REFERENZ: 30003101"
  dtls
    tx msg=20190424-000369773,acctsvcr=25-1120172999-2,pmtinf=30003101,e2e=20190424001255000100006|913.00 CHF DBIT|amtdtls=-|btc=-|addtl=""
`},
		{"camt.054/postfinance-v08-credit-batch-2-txdtls-structured-ref.xml", `camt.054.001.08 20200618375204295372463 2020-06-18T23:41:07Z
report 20200618375204295372465|2020-06-18T23:41:07Z|seq=-/-|-|CH2909000000250094239 CHF
ntry CH7730000001250094239|1692.22 CHF CRDT|BOOK|prtry=-|bookg=2020-06-18|val=2020-06-18|ref=1000000000000000|btc=PMNT/RCDT/VCOM|amtdtls=-|addtl="SAMMELGUTSCHRIFT FÜR KONTO: CH7730000001250094239 VERARBEITUNG VOM 18.06.2020 PAKET ID: 200618CH000009TB"
  dtls
    btch msg=- pmtinf=- n=2 ttl=- -
    tx acctsvcr=2000000000000000,instr=1006265-25bbb3b1a,e2e=1006265-aic5dL-75dzf3jk9-cf2d5e9,uetr=b009c997-97b3-4a9c-803c-d645a7276bf0,prtry=00:00000000000000000000020|778.29 CHF CRDT|amtdtls=-|btc=PMNT/RCDT/AUTT|addtl=""
      pties dbtr=Bernasconi Maria@CH5109000000250092291 cdtr=-@CH7730000001250094239
      rmt ustrd=[] strd=["-/QRR/-:539115429773825311971477453"]
    tx acctsvcr=3000000000000000,instr=1005970-70a75515,prtry=00:00000000000000000000030|913.93 CHF CRDT|amtdtls=-|btc=PMNT/RCDT/AUTT|addtl=""
      pties dbtr=Bernasconi Maria@CH5109000000250092291 cdtr=-@CH7730000001250094239
      rmt ustrd=[] strd=["-/QRR/-:662437765447746478179744715"]
`},
		{"camt.054/postfinance-v08-credit-direct-debit-batch-2-txdtls.xml", `camt.054.001.08 20190520375204228751067 2019-05-19T00:20:22Z
report 20190516375204228751070|2019-05-20T00:20:22Z|seq=-/-|-|CH2909000000250094239 CHF
ntry 41100000000872849|4.50 CHF CRDT|BOOK|prtry=-|bookg=2019-05-19|val=2019-05-19|ref=0758103031480900|btc=PMNT/IDDT/PMDD|amtdtls=-|addtl="GUTSCHRIFT CH-DD-BASISLASTSCHRIFT ID-NR. DES ZAHLUNGSEMPFÄNGERS: 41100000000872849 REFERENZ-NR: PmtInfId-CHDD-1"
  dtls
    btch msg=- pmtinf=- n=2 ttl=- -
    tx msg=MsgId-CHDD-Musterfile,acctsvcr=201-31295208-1,pmtinf=PmtInfId-CHDD-1,instr=InstrId-CHDD-1,e2e=E2EId-CHDD-1,uetr=b009c997-97b3-4a9c-803c-d645a7276bf5|1.50 CHF CRDT|amtdtls=-|btc=PMNT/IDDT/PMDD|addtl=""
      pties dbtr=Maria Bernasconi@CH5109000000250092291 cdtr=-@-
      rmt ustrd=["Rechnung 1001"] strd=[]
    tx msg=MsgId-CHDD-Musterfile,acctsvcr=201-31295208-2,pmtinf=PmtInfId-CHDD-1,instr=InstrId-CHDD-2,e2e=E2EId-CHDD-2,uetr=b009c997-97b3-4a9c-803c-d645a7276bf5|3.00 CHF CRDT|amtdtls=-|btc=PMNT/IDDT/PMDD|addtl=""
      pties dbtr=Maria Bernasconi@CH5109000000250092291 cdtr=-@-
      rmt ustrd=["Rechnung 1002"] strd=[]
`},
		{"camt.054/postfinance-v08-credit-return-RtrInf-AC01-single-booking.xml", `camt.054.001.08 20201124375204228763929 2022-05-25T00:29:29Z
report 20201124375204228763930|2022-05-25T00:29:29Z|seq=-/-|-|CH5109000000250092291
ntry -|500.00 CHF CRDT REVERSAL|BOOK|prtry=-|bookg=2020-11-24|val=2020-11-24|ref=075820002ZZTJR1K|btc=PMNT/ICDT/RRTN|amtdtls=-|addtl="EndToEndId-001-03-04 RETOUR TRANSAKTION NICHT AUSFÜHRBAR Kontouebertrag"
  dtls
    btch msg=- pmtinf=- n=1 ttl=- -
    tx acctsvcr=190520CH02ZZTJR1,pmtinf=PmtInfId-001-03,instr=InstrId-001-03-04,e2e=EndToEndId-001-03-04|500.00 CHF CRDT|amtdtls=-|btc=PMNT/ICDT/RRTN|addtl=""
      pties dbtr=Robert Schneider SA@CH8709000000929471495 cdtr=-@-
      rmt ustrd=["Kontouebertrag"] strd=[]
      rtr AC01/- orgnl=- by=- ["Kontonummer falsch"]
`},
		{"camt.054/postfinance-v08-credit-return-RtrInf-batch-booking.xml", `camt.054.001.08 20190520375204012050698 2022-05-20T23:40:06Z
report 20190520375204012050705|2022-05-20T23:40:06Z|seq=-/-|-|CH2909000000250094239
ntry -|400.00 CHF CRDT|BOOK|prtry=-|bookg=2022-05-20|val=2022-05-20|ref=086820002PBWFX2U|btc=PMNT/ICDT/RRTN|amtdtls=-|addtl="SAMMELGUTSCHRIFT RETOUREN VERARBEITUNG VOM 20.05.2022 PAKET ID: 190520CH000006O1"
  dtls
    btch msg=- pmtinf=- n=1 ttl=- -
    tx acctsvcr=180327CH02P92DYD,pmtinf=PmtInfId-004-01,instr=InstrId-004-01-01,e2e=EndToEndId-004-01-01|400.00 CHF CRDT|amtdtls=-|btc=PMNT/ICDT/RRTN|addtl=""
      pties dbtr=Robert Schneider SA@CH8709000000929471495 cdtr=-@-
      rmt ustrd=["Kontouebertrag"] strd=[]
      rtr AC01/- orgnl=- by=- ["Kontonummer falsch"]
`},
		{"camt.054/tryton-v02-credit-single-iso-example.xml", `camt.054.001.02 AAAASESS-FP-00001 2010-10-18T13:20:00+01:00
report AAAASESS-FP-CN-98765|2010-10-18T13:20:00+01:00|seq=-/-|-|othr:50000000054910000003
ntry -|105678.50 SEK CRDT|BOOK|prtry=-|bookg=2010-10-18T13:15:00+01:00|val=2010-10-18|ref=AAAASESS-FP-CN-98765/01|btc=PAYM/0001/0005|amtdtls=-|addtl=""
  dtls
    tx e2e=MUELL/FINP/RA12345|- -|amtdtls=-|btc=-|addtl=""
      pties dbtr=MUELLER@- cdtr=-@-
`},
	} {
		want[s.name] = s.dump
	}
	n := 0
	for _, kind := range []string{"camt.053", "camt.054"} {
		for _, path := range samples.Files(t, kind) {
			name := kind + "/" + filepath.Base(path)
			t.Run(name, func(t *testing.T) {
				n++
				r, err := NewReader(samples.Open(t, kind, filepath.Base(path)), Options{})
				if err != nil {
					t.Fatal(err)
				}
				got, err := dumpAll(r)
				if err != nil {
					t.Fatal(err)
				}
				w, ok := want[name]
				if !ok {
					t.Fatalf("sample %s is not in the table; add it:\n%s", name, got)
				}
				if got != w {
					t.Errorf("got\n%s\nwant\n%s", got, w)
				}
			})
		}
	}
	if n != len(want) {
		t.Errorf("read %d samples; want %d", n, len(want))
	}
}

// TestSampleCounts checks the counts and totals a caller relies on.
func TestSampleCounts(t *testing.T) {
	for _, tc := range []struct {
		file            string
		entries, txs    int
		credits, debits string
	}{
		{"camt.053/ing-nl-v02-statement-with-returns.xml", 9, 7, "990.00", "385.00"},
		{"camt.053/nordea-dk-v02-statement-batch-debit-with-msgid-pmtinfid-e2e.xml", 6, 8, "29286.58", "66962.50"},
		{"camt.053/nordea-fi-v02-statement-6-entries.xml", 6, 6, "10100.50", "1500.50"},
		{"camt.054/genkgo-v02-debit-3-txdtls-iso-example.xml", 1, 3, "0", "200000"},
		{"camt.054/postfinance-v08-credit-batch-2-txdtls-structured-ref.xml", 1, 2, "1692.22", "0"},
		{"camt.054/postfinance-v04-debit-single.xml", 1, 1, "0", "913.00"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			kind, name, _ := strings.Cut(tc.file, "/")
			r, err := NewReader(samples.Open(t, kind, name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var entries, txs int
			var cr, db formats.Decimal
			for {
				e, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				entries++
				txs += len(e.Transactions())
				sum := &db
				if e.CreditDebit == Credit {
					sum = &cr
				}
				*sum = add(*sum, e.Amount.Decimal)
			}
			if entries != tc.entries || txs != tc.txs || cr.String() != tc.credits || db.String() != tc.debits {
				t.Errorf("got %d entries, %d transactions, credits %s, debits %s; want %d, %d, %s, %s",
					entries, txs, cr, db, tc.entries, tc.txs, tc.credits, tc.debits)
			}
		})
	}
}

func add(a, b formats.Decimal) formats.Decimal {
	s := max(a.Scale, b.Scale)
	x, _ := a.Scaled(s)
	y, _ := b.Scaled(s)
	return formats.Decimal{Units: x + y, Scale: s}
}

// notification returns a camt.054 of the given version whose entries are
// the given Ntry elements.
func notification(version string, entries ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.` + version + `">
<BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>N-1</MsgId><CreDtTm>2026-12-02T18:00:00+01:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NT-1</Id><CreDtTm>2026-12-02T18:00:00+01:00</CreDtTm>
<Acct><Id><Othr><Id>86011117947</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id><Ccy>NOK</Ccy></Acct>
` + strings.Join(entries, "\n") + `
</Ntfctn>
</BkToCstmrDbtCdtNtfctn>
</Document>
`
}

func entry(n int, sts string) string {
	return fmt.Sprintf(`<Ntry><Amt Ccy="NOK">%d.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>%s<BookgDt><Dt>2026-12-02</Dt></BookgDt>
<AcctSvcrRef>BANK-%d</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>CN-%d</EndToEndId></Refs><RmtInf><Ustrd>Refusjon ordre %d</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>`, 100+n, sts, n, n, n)
}

const (
	sts02 = "<Sts>BOOK</Sts>"
	sts08 = "<Sts><Cd>BOOK</Cd></Sts>"
)

func readAll(doc string, o Options) ([]*Entry, error) {
	r, err := NewReader(strings.NewReader(doc), o)
	if err != nil {
		return nil, err
	}
	var es []*Entry
	for {
		e, err := r.Next()
		if err == io.EOF {
			return es, nil
		}
		if err != nil {
			return es, err
		}
		es = append(es, e)
	}
}

func TestStatusShapes(t *testing.T) {
	for _, tc := range []struct {
		name, version, sts string
		want, prtry        string
		err                string
	}{
		{"v02 text", "02", "<Sts>BOOK</Sts>", "BOOK", "", ""},
		{"v04 text", "04", "<Sts>PDNG</Sts>", "PDNG", "", ""},
		{"v08 code", "08", "<Sts><Cd>INFO</Cd></Sts>", "INFO", "", ""},
		{"v08 other external code", "08", "<Sts><Cd>FUTR</Cd></Sts>", "FUTR", "", ""},
		{"v08 proprietary", "08", "<Sts><Prtry>HELD</Prtry></Sts>", "", "HELD", ""},
		{"v02 code is the v08 shape", "02", "<Sts><Cd>BOOK</Cd></Sts>", "", "", "element <Cd> where only text is expected"},
		{"v08 text is the v02 shape", "08", "<Sts>BOOK</Sts>", "", "", `text "BOOK" where an element is expected`},
		{"v02 unknown code", "02", "<Sts>FUTR</Sts>", "", "", `"FUTR" is not one of`},
		{"v08 code and proprietary", "08", "<Sts><Cd>BOOK</Cd><Prtry>X</Prtry></Sts>", "", "", "more than one"},
		{"v08 empty", "08", "<Sts/>", "", "", "neither Cd nor Prtry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := readAll(notification(tc.version, entry(1, tc.sts)), Options{})
			if tc.err != "" {
				if !errors.Is(err, formats.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v; want ErrInvalid containing %q", err, tc.err)
				}
				return
			}
			if err != nil || len(es) != 1 || es[0].Status != tc.want || es[0].StatusProprietary != tc.prtry {
				t.Fatalf("got %v, %v; want status %q, proprietary %q", es, err, tc.want, tc.prtry)
			}
		})
	}
}

func TestReaderRefuses(t *testing.T) {
	doc := notification("02", entry(1, sts02), entry(2, sts02))
	ntry := entry(1, sts02)
	for _, tc := range []struct {
		name string
		in   string
		o    Options
		err  error
		text string
	}{
		{"doctype", strings.Replace(doc, "<Document", "<!DOCTYPE Document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<Document", 1), Options{}, formats.ErrDoctype, "DOCTYPE"},
		{"billion laughs", strings.Replace(doc, "<Document", `<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>`+"\n<Document", 1), Options{}, formats.ErrDoctype, "DOCTYPE"},
		{"undeclared entity", strings.Replace(doc, "Refusjon ordre 1", "&xxe;", 1), Options{}, formats.ErrMalformed, "&xxe;"},
		{"second root", doc + "<Document/>", Options{}, formats.ErrTrailing, "second root"},
		{"two documents", doc + doc, Options{}, formats.ErrMalformed, "declaration"},
		{"text after root", doc + "x", Options{}, formats.ErrTrailing, "text"},
		{"too large", doc, Options{MaxBytes: 1000}, formats.ErrTooLarge, "1000"},
		{"too deep", strings.Replace(doc, "<NtryDtls>", strings.Repeat("<X>", 61)+strings.Repeat("</X>", 61)+"<NtryDtls>", 1), Options{}, formats.ErrLimit, "deeper"},
		{"long text", strings.Replace(doc, "Refusjon ordre 1", strings.Repeat("x", 5000), 1), Options{MaxTokenBytes: 4096}, formats.ErrLimit, "longer"},
		{"UTF-16 BOM", "\xff\xfe<\x00?\x00", Options{}, formats.ErrEncoding, "UTF-16"},
		{"UTF-16 declared", strings.Replace(doc, "UTF-8", "UTF-16", 1), Options{}, formats.ErrEncoding, "UTF-16"},
		{"unknown encoding", strings.Replace(doc, "UTF-8", "x-mac-roman", 1), Options{}, formats.ErrEncoding, "x-mac-roman"},
		{"latin1 bytes declared UTF-8", strings.Replace(doc, "ordre 1", "ordre \xe6", 1), Options{}, formats.ErrEncoding, "0xE6"},
		{"unknown namespace", strings.Replace(doc, "camt.054.001.02", "camt.054.001.13", 1), Options{}, formats.ErrUnknownMessage, "camt.054.001.13"},
		{"pain.002", strings.Replace(doc, "camt.054.001.02", "pain.002.001.03", 1), Options{}, formats.ErrWrongMessage, "pain.002"},
		{"wrong message element", strings.Replace(strings.Replace(doc, "<BkToCstmrDbtCdtNtfctn>", "<BkToCstmrStmt>", 1), "</BkToCstmrDbtCdtNtfctn>", "</BkToCstmrStmt>", 1), Options{}, formats.ErrInvalid, "BkToCstmrDbtCdtNtfctn"},
		{"foreign amount", strings.Replace(doc, `<Amt Ccy="NOK">101.50</Amt>`, `<x:Amt xmlns:x="urn:evil" Ccy="NOK">101.50</x:Amt>`, 1), Options{}, formats.ErrInvalid, "urn:evil"},
		{"foreign end-to-end id", strings.Replace(doc, "<EndToEndId>CN-1</EndToEndId>", `<EndToEndId xmlns="urn:evil">CN-X</EndToEndId>`, 1), Options{}, formats.ErrInvalid, "urn:evil"},
		{"undeclared prefix", strings.Replace(doc, "<Refs>", "<x:Refs>", 1), Options{}, formats.ErrMalformed, "not declared"},
		{"amount twice", strings.Replace(doc, `<CdtDbtInd>DBIT</CdtDbtInd>`, `<Amt Ccy="NOK">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>`, 1), Options{}, formats.ErrInvalid, "more than once"},
		{"end-to-end id twice", strings.Replace(doc, "<EndToEndId>CN-1</EndToEndId>", "<EndToEndId>CN-1</EndToEndId><EndToEndId>CN-9</EndToEndId>", 1), Options{}, formats.ErrInvalid, "more than once"},
		{"status twice", strings.Replace(doc, sts02, sts02+sts02, 1), Options{}, formats.ErrInvalid, "more than once"},
		{"no amount", strings.Replace(doc, `<Amt Ccy="NOK">101.50</Amt>`, "", 1), Options{}, formats.ErrInvalid, "no Amt"},
		{"no status", strings.Replace(doc, sts02, "", 1), Options{}, formats.ErrInvalid, "no Sts"},
		{"exponent", strings.Replace(doc, ">101.50<", ">1e2<", 1), Options{}, formats.ErrInvalid, "1e2"},
		{"negative", strings.Replace(doc, ">101.50<", ">-101.50<", 1), Options{}, formats.ErrInvalid, "-101.50"},
		{"comma", strings.Replace(doc, ">101.50<", ">101,50<", 1), Options{}, formats.ErrInvalid, "101,50"},
		{"six decimals", strings.Replace(doc, ">101.50<", ">101.000001<", 1), Options{}, formats.ErrInvalid, "decimals"},
		{"twenty digits", strings.Replace(doc, ">101.50<", ">12345678901234567890<", 1), Options{}, formats.ErrInvalid, "18 digits"},
		{"no currency", strings.Replace(doc, `<Amt Ccy="NOK">101.50`, `<Amt>101.50`, 1), Options{}, formats.ErrInvalid, "Ccy"},
		{"bad currency", strings.Replace(doc, `<Amt Ccy="NOK">101.50`, `<Amt Ccy="kr">101.50`, 1), Options{}, formats.ErrInvalid, "kr"},
		{"bad direction", strings.Replace(doc, "<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>DEBIT</CdtDbtInd>", 1), Options{}, formats.ErrInvalid, "DEBIT"},
		{"bad date", strings.Replace(doc, "<Dt>2026-12-02</Dt>", "<Dt>2026-02-30</Dt>", 1), Options{}, formats.ErrInvalid, "2026-02-30"},
		{"date and time both", strings.Replace(doc, "<Dt>2026-12-02</Dt>", "<Dt>2026-12-02</Dt><DtTm>2026-12-02T10:00:00</DtTm>", 1), Options{}, formats.ErrInvalid, "more than one"},
		{"bad reversal", strings.Replace(doc, "<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>DBIT</CdtDbtInd><RvslInd>yes</RvslInd>", 1), Options{}, formats.ErrInvalid, "boolean"},
		{"bad copy indicator", strings.Replace(doc, "<Acct>", "<CpyDplctInd>DUP</CpyDplctInd><Acct>", 1), Options{}, formats.ErrInvalid, "DUP"},
		{"report without account", strings.Replace(doc, "<Acct><Id><Othr><Id>86011117947</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id><Ccy>NOK</Ccy></Acct>", "", 1), Options{}, formats.ErrInvalid, "no Acct"},
		{"account after the entries", strings.Replace(doc, "</Ntfctn>", "<Acct><Id><IBAN>NO9386011117947</IBAN></Id></Acct></Ntfctn>", 1), Options{}, formats.ErrInvalid, "after the entries"},
		{"text between elements", strings.Replace(doc, ntry, ntry+"stray", 1), Options{}, formats.ErrInvalid, "stray"},
		{"CDATA between elements", strings.Replace(doc, ntry, ntry+"<![CDATA[ ]]>", 1), Options{}, formats.ErrInvalid, "text"},
		{"two messages", strings.Replace(doc, "</Document>", "<BkToCstmrDbtCdtNtfctn/></Document>", 1), Options{}, formats.ErrInvalid, "more than one message"},
		{"no notification", doc[:strings.Index(doc, "<Ntfctn>")] + "</BkToCstmrDbtCdtNtfctn></Document>", Options{}, formats.ErrInvalid, "no Ntfctn"},
		{"two group headers", strings.Replace(doc, "<Ntfctn>", "<GrpHdr><MsgId>X</MsgId><CreDtTm>2026-12-02T18:00:00</CreDtTm></GrpHdr><Ntfctn>", 1), Options{}, formats.ErrInvalid, "second GrpHdr"},
		{"mismatched end tag", strings.Replace(doc, "</Refs>", "</Ref>", 1), Options{}, formats.ErrMalformed, "closed by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(tc.in, tc.o)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %v; want an error wrapping %v containing %q", err, tc.err, tc.text)
			}
		})
	}
}

// TestTruncated: a document cut anywhere is an error at its end, however
// many entries came before the cut; it is never a short, successful read.
func TestTruncated(t *testing.T) {
	doc := notification("08", entry(1, sts08), entry(2, sts08), entry(3, sts08))
	third := strings.Index(doc, "<Ntry><Amt Ccy=\"NOK\">103.50")
	end := strings.Index(doc, "</Ntfctn>")
	for _, tc := range []struct {
		name    string
		cut     int
		entries int
	}{
		{"inside the header", 100, 0},
		{"inside the third entry", third + 50, 2},
		{"after the last entry", end, 3},
		{"before the last end tag", len(doc) - len("</Document>\n"), 3},
		{"inside the last end tag", len(doc) - 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := readAll(doc[:tc.cut], Options{})
			if !errors.Is(err, formats.ErrTruncated) || len(es) != tc.entries {
				t.Errorf("got %d entries and %v; want %d and ErrTruncated", len(es), err, tc.entries)
			}
		})
	}
	// The error sticks.
	r, err := NewReader(strings.NewReader(doc[:third+50]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("got %v then %v; want the same error twice", err1, err2)
	}
}

// TestLatin1: a notification declared ISO-8859-1 is decoded, æøå
// included; the same with windows-1252 and ISO-8859-15 and their euro
// sign.
func TestLatin1(t *testing.T) {
	for _, tc := range []struct {
		enc  string
		in   string
		want string
	}{
		{"ISO-8859-1", "Refusjon \xe6\xf8\xe5 \xc6\xd8\xc5", "Refusjon æøå ÆØÅ"},
		{"latin1", "Bl\xe5b\xe6r", "Blåbær"},
		{"ISO-8859-15", "\xa4 \xe6\xf8\xe5", "€ æøå"},
		{"windows-1252", "\x80 \xe6\xf8\xe5 \x96", "€ æøå –"},
	} {
		t.Run(tc.enc, func(t *testing.T) {
			doc := strings.Replace(notification("02", entry(1, sts02)), "UTF-8", tc.enc, 1)
			doc = strings.Replace(doc, "Refusjon ordre 1", tc.in, 1)
			es, err := readAll(doc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := es[0].Details[0].Transactions[0].Remittance.Unstructured[0]; got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// TestReports: entries point to the notification they are in, and a
// notification without entries is read over.
func TestReports(t *testing.T) {
	doc := notification("02", entry(1, sts02))
	second := `<Ntfctn><Id>NT-2</Id><CreDtTm>2026-12-02T18:00:00</CreDtTm><CpyDplctInd>DUPL</CpyDplctInd><Acct><Id><IBAN>NO9386011117947</IBAN></Id></Acct>` + entry(2, sts02) + entry(3, sts02) + `<AddtlNtfctnInf>x</AddtlNtfctnInf></Ntfctn>`
	empty := `<Ntfctn><Id>NT-0</Id><CreDtTm>2026-12-02T18:00:00</CreDtTm><Acct><Id><IBAN>NO9386011117947</IBAN></Id></Acct></Ntfctn>`
	doc = strings.Replace(doc, "</BkToCstmrDbtCdtNtfctn>", empty+second+"</BkToCstmrDbtCdtNtfctn>", 1)
	r, err := NewReader(strings.NewReader(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.MsgID != "N-1" || h.Message.String() != "camt.054.001.02" {
		t.Errorf("header %+v", h)
	}
	var got []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s:%s:%s:%s:line %d", e.Report.ID, e.Report.CopyDuplicate, acct(e.Report.Account), e.AcctSvcrRef, r.Line()))
	}
	// The second notification starts on line 11, after the first's end
	// tag; each entry spans three lines.
	want := "NT-1::othr:86011117947/BBAN NOK:BANK-1:line 7|NT-2:DUPL:NO9386011117947:BANK-2:line 11|NT-2:DUPL:NO9386011117947:BANK-3:line 13"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}

// TestMaxItems: the repeated elements of one entry are bounded, and the
// count starts again with each entry.
func TestMaxItems(t *testing.T) {
	many := func(n int) string {
		return strings.Replace(entry(n, sts02), "<NtryDtls>", "<NtryDtls>"+strings.Repeat("<TxDtls/>", n), 1)
	}
	es, err := readAll(notification("02", many(6), many(6)), Options{MaxItems: 10})
	if err != nil || len(es) != 2 || len(es[1].Transactions()) != 7 {
		t.Fatalf("got %d entries, %v; want 2 with 7 transactions each", len(es), err)
	}
	_, err = readAll(notification("02", many(10)), Options{MaxItems: 10})
	if !errors.Is(err, formats.ErrLimit) || !strings.Contains(err.Error(), "more than 10") {
		t.Errorf("got %v; want ErrLimit", err)
	}
}

// TestPrefixed: a document whose elements carry a namespace prefix reads
// the same as one with a default namespace.
func TestPrefixed(t *testing.T) {
	plain := notification("08", entry(1, sts08), entry(2, sts08))
	prefixed := regexp.MustCompile(`<(/?)([A-Za-z])`).ReplaceAllString(plain, "<${1}ns0:$2")
	prefixed = strings.Replace(prefixed, `<ns0:Document xmlns=`, `<ns0:Document xmlns:ns0=`, 1)
	var dumps [2]string
	for i, doc := range []string{plain, prefixed} {
		r, err := NewReader(strings.NewReader(doc), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if dumps[i], err = dumpAll(r); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(prefixed, "<ns0:EndToEndId>") || dumps[0] != dumps[1] {
		t.Errorf("prefixed document read as\n%s\nwant\n%s", dumps[1], dumps[0])
	}
}

// TestReadOneByteAtATime: the reader does not depend on how the input
// arrives.
func TestReadOneByteAtATime(t *testing.T) {
	doc := notification("08", entry(1, sts08), entry(2, sts08))
	r, err := NewReader(&oneByte{bytes.NewReader([]byte(doc))}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("got %d entries; want 2", n)
	}
}

type oneByte struct{ r *bytes.Reader }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
